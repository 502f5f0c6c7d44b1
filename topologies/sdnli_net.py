"""Shared by one_switch.py and multi_switch.py: builds a Mininet network
of Open vSwitch switches with the userspace datapath (datapath=user, i.e.
datapath_type=netdev), OpenFlow 1.3, fail_mode=secure, all pointed at the
sdnli controller (RemoteController), with hosts and one IRS host whose
switch port sits in an access VLAN of its own so that NORMAL never
floods to it.

Run under Mininet's Python (/usr/bin/python3) as root. Two modes:

  --cli     the Mininet CLI, for people.
  default   a driver mode for tests: one JSON line describing the network
            (switches with their datapath ids and ports, hosts with the
            pid of their shell, addresses and ports, the IRS port), then
            the line "ready"; the network lives until stdin is closed
            (or SIGTERM), then everything is removed.
"""

import argparse
import json
import signal
import sys

from mininet.cli import CLI
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch, RemoteController


def parse_args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--controller', default='127.0.0.1:6653',
                   help='sdnli controller address HOST:PORT (default %(default)s)')
    p.add_argument('--prefix', default='',
                   help='prefix of switch names, to run several networks side by side')
    p.add_argument('--dpid-base', type=lambda v: int(v, 0), default=0,
                   help='switch sN gets datapath id DPID_BASE+N (default %(default)s)')
    p.add_argument('--subnet', default='10.0.0',
                   help='first three octets of the hosts\' IPv4 addresses (default %(default)s)')
    p.add_argument('--irs-vlan', type=int, default=4094,
                   help='access VLAN of the IRS port (default %(default)s)')
    p.add_argument('--cli', action='store_true', help='run the Mininet CLI')
    return p.parse_args()


class Net:
    """A network described by switch names, hosts and links."""

    def __init__(self, args):
        self.args = args
        host, port = args.controller.rsplit(':', 1)
        self.net = Mininet(controller=None, switch=OVSSwitch, build=False,
                           autoSetMacs=False, waitConnected=False)
        self.net.addController('c0', controller=RemoteController, ip=host, port=int(port))
        self.switches = {}
        self.hosts = []
        self.irs = None

    def switch(self, short, number):
        """Adds switch `short` (s1, s2, ...) with datapath id base+number."""
        name = self.args.prefix + short
        sw = self.net.addSwitch(name, cls=OVSSwitch, dpid='%016x' % (self.args.dpid_base + number),
                                datapath='user', protocols='OpenFlow13', failMode='secure')
        self.switches[short] = sw
        return sw

    def host(self, name, short, port, last):
        """Adds host `name` with address SUBNET.last on port `port` of switch `short`."""
        h = self.net.addHost(name, ip='%s.%d/24' % (self.args.subnet, last))
        self.net.addLink(h, self.switches[short], port2=port)
        self.hosts.append((h, short, port, last))
        return h

    def irs_host(self, short, port):
        """Adds the IRS host on port `port` of switch `short`."""
        h = self.net.addHost('irs', ip='%s.250/24' % self.args.subnet)
        self.net.addLink(h, self.switches[short], port2=port)
        self.irs = (h, short, port)
        return h

    def link(self, a, pa, b, pb):
        """Joins port pa of switch a and port pb of switch b."""
        self.net.addLink(self.switches[a], self.switches[b], port1=pa, port2=pb)

    def start(self):
        self.net.build()
        self.net.start()
        for h in self.net.hosts:
            intf = h.defaultIntf().name
            # Userspace datapath and veth offloads give bad TCP checksums
            # and GSO super-frames in captures: off.
            h.cmd('ethtool -K %s tx off tso off gso off gro off >/dev/null 2>&1' % intf)
        for h, _, _, last in self.hosts:
            h.cmd('ip -6 addr add fd00:5d::%d/64 dev %s nodad' % (last, h.defaultIntf().name))
        for sw in self.net.switches:
            for intf in sw.intfList():
                if intf.name != 'lo':
                    # The switch side must not send anything of its own.
                    sw.cmd('sysctl -qw net.ipv6.conf.%s.disable_ipv6=1' % intf.name)
        h, short, port = self.irs
        sw = self.switches[short]
        sw.cmd('ovs-vsctl set port %s tag=%d' % (self.port_name(sw, port), self.args.irs_vlan))

    @staticmethod
    def port_name(sw, port):
        for intf, p in sw.ports.items():
            if p == port:
                return intf.name
        raise KeyError('%s has no port %d' % (sw.name, port))

    def describe(self):
        d = {'switches': [], 'hosts': [], 'irs': None}
        for short, sw in sorted(self.switches.items()):
            d['switches'].append({
                'short': short, 'name': sw.name, 'dpid': sw.dpid,
                'ports': {intf.name: p for intf, p in sw.ports.items() if intf.name != 'lo'},
            })
        for h, short, port, last in self.hosts:
            d['hosts'].append({
                'name': h.name, 'pid': h.pid, 'ip': h.IP(), 'ip6': 'fd00:5d::%d' % last,
                'mac': h.MAC(), 'intf': h.defaultIntf().name,
                'switch': self.switches[short].name, 'port': port,
            })
        h, short, port = self.irs
        sw = self.switches[short]
        d['irs'] = {'name': h.name, 'pid': h.pid, 'ip': h.IP(), 'mac': h.MAC(), 'intf': h.defaultIntf().name,
                    'switch': sw.name, 'dpid': sw.dpid, 'port': port, 'port_name': self.port_name(sw, port),
                    'vlan': self.args.irs_vlan}
        return d

    def run(self):
        setLogLevel('warning' if not self.args.cli else 'info')
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(1) or sys.stdin.close())
        try:
            self.start()
            if self.args.cli:
                CLI(self.net)
                return
            print(json.dumps(self.describe()), flush=True)
            print('ready', flush=True)
            try:
                while not stopping and sys.stdin.readline():
                    pass
            except (ValueError, OSError):
                pass  # stdin closed by the SIGTERM handler
        finally:
            self.net.stop()

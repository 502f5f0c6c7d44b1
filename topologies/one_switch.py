#!/usr/bin/python3
"""One switch: hosts h1, h2, h3 on ports 1-3 of s1, the IRS host on port 4
(in an access VLAN of its own). Every switch is Open vSwitch with the
userspace datapath, OpenFlow 1.3, fail_mode=secure, controlled by sdnli.

    sudo /usr/bin/python3 topologies/one_switch.py --controller 127.0.0.1:6653 --cli

Matching controller configuration: the IRS is dpid 0000000000000001
(with --dpid-base 0), port "s1-eth4" (see README.md).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sdnli_net import Net, parse_args  # noqa: E402


def main():
    args = parse_args(__doc__.split('\n')[0])
    n = Net(args)
    n.switch('s1', 1)
    for i in (1, 2, 3):
        n.host('h%d' % i, 's1', i, i)
    n.irs_host('s1', 4)
    n.run()


if __name__ == '__main__':
    main()

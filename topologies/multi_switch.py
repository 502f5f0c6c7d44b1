#!/usr/bin/python3
"""Three switches in a line, s1 - s2 - s3: hosts h1 and h2 on s1 (ports 1,
2), h3 on s2 (port 3), the IRS host alone on s3 (port 2, in an access VLAN
of its own), so copies from s1 cross s2 on their way. Links: s1 port 3 -
s2 port 1, s2 port 2 - s3 port 1. Every switch is Open vSwitch with the
userspace datapath, OpenFlow 1.3, fail_mode=secure, controlled by sdnli.

    sudo /usr/bin/python3 topologies/multi_switch.py --controller 127.0.0.1:6653 --cli

Matching controller configuration: the IRS is dpid 0000000000000003
(with --dpid-base 0), port "s3-eth2" (see README.md).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sdnli_net import Net, parse_args  # noqa: E402


def main():
    args = parse_args(__doc__.split('\n')[0])
    n = Net(args)
    for i in (1, 2, 3):
        n.switch('s%d' % i, i)
    n.host('h1', 's1', 1, 1)
    n.host('h2', 's1', 2, 2)
    n.host('h3', 's2', 3, 3)
    n.irs_host('s3', 2)
    n.link('s1', 3, 's2', 1)
    n.link('s2', 2, 's3', 1)
    n.run()


if __name__ == '__main__':
    main()

"""web.py — a small HTTP server for tests and the demo: GET serves the
files under DIR, POST /upload/NAME stores the request body as
DIR/upload/NAME (at most 64 MiB) and answers 201 with its size.

    /usr/bin/python3 web.py DIR LISTEN_ADDR [PORT]

Runs in the foreground until killed; run it inside the network namespace
(or Mininet host) that should serve.
"""

import os
import sys
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

MAX_UPLOAD = 64 << 20


class Handler(SimpleHTTPRequestHandler):
    def do_POST(self):
        name = os.path.basename(self.path.split('?', 1)[0])
        if not self.path.startswith('/upload/') or not name or name.startswith('.'):
            self.send_error(404, 'POST to /upload/NAME')
            return
        try:
            length = int(self.headers.get('Content-Length', ''))
        except ValueError:
            self.send_error(411, 'Content-Length required')
            return
        if length < 0 or length > MAX_UPLOAD:
            self.send_error(413, 'body too large')
            return
        dest = os.path.join(self.directory, 'upload', name)
        left = length
        with open(dest, 'wb') as f:
            while left > 0:
                chunk = self.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                f.write(chunk)
                left -= len(chunk)
        body = ('stored %d bytes\n' % (length - left)).encode()
        self.send_response(201 if left == 0 else 400)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write('web.py: %s %s\n' % (self.address_string(), fmt % args))


def main():
    if len(sys.argv) < 3:
        sys.exit('usage: web.py DIR LISTEN_ADDR [PORT]')
    root, addr = sys.argv[1], sys.argv[2]
    port = int(sys.argv[3]) if len(sys.argv) > 3 else 80
    os.makedirs(os.path.join(root, 'upload'), exist_ok=True)

    def handler(*a, **kw):
        return Handler(*a, directory=root, **kw)

    ThreadingHTTPServer((addr, port), handler).serve_forever()


if __name__ == '__main__':
    main()

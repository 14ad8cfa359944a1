# Copyright: hwcloud.dbss contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Command line: ``python -m emulator --host 127.0.0.1 --port 0`` (first stdout line: base URL)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import argparse
import os
import signal
import sys
import threading

from .app import Emulator
from .config import DEFAULT_PROJECT_NAME, DEFAULT_TOKEN_TTL, Config
from .server import EmulatorServer, make_ssl_context


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m emulator", description="Local DBSS + IAM API emulator.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one (default 0)")
    parser.add_argument("--port-file", help="also write the port number to this file")
    parser.add_argument("--certfile", help="PEM certificate: serve HTTPS")
    parser.add_argument("--keyfile", help="PEM private key for --certfile (if not inside it)")
    parser.add_argument("--example", action="store_true", help="serve the API reference's example job")
    parser.add_argument("--verbose", action="store_true", help="one stderr line per request (no secrets)")
    parser.add_argument("--requests-per-minute", type=int, default=0, metavar="N",
                        help="per-project quota of DBSS requests per one-minute window (0: no quota)")
    parser.add_argument("--no-documented-path", action="store_true",
                        help="answer 404 APIGW.0101 on GET /v1/{project_id}/audit/{resource_id}/jobs")
    parser.add_argument("--instance-delay", type=float, default=0.0, metavar="SECONDS",
                        help="an audit instance turns ACTIVE this long after its job succeeds (default 0)")
    creds = parser.add_argument_group("credentials (none given: the demo set, all modes)")
    creds.add_argument("--token", action="append", help="accept this X-Auth-Token (repeatable)")
    creds.add_argument("--access-key", help="accept AK/SK signatures with this access key")
    creds.add_argument("--secret-key", help="secret key of --access-key")
    creds.add_argument("--security-token", help="require this X-Security-Token on AK/SK requests")
    creds.add_argument("--user", help="IAM user name for password logins")
    creds.add_argument("--password", help="IAM password of --user")
    creds.add_argument("--domain", help="IAM account (domain) name of --user")
    creds.add_argument("--project-id", help="id of the project --project-name (default: derived from the name)")
    creds.add_argument("--project-name", default=DEFAULT_PROJECT_NAME,
                       help="the configured project: listed by GET /v3/projects, shown in tokens scoped by id")
    creds.add_argument("--token-ttl", type=float, default=DEFAULT_TOKEN_TTL, help="lifetime of issued tokens, seconds")
    return parser.parse_args(argv)


def _write_port_file(path, port):
    tmp = "%s.tmp%d" % (path, os.getpid())
    with open(tmp, "w") as handle:
        handle.write("%d\n" % port)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    try:
        config = Config.from_args(args)
    except ValueError as exc:
        sys.stderr.write("emulator: %s\n" % exc)
        return 2
    context = make_ssl_context(args.certfile, args.keyfile) if args.certfile else None
    server = EmulatorServer((args.host, args.port), Emulator(config), context, args.verbose)
    if args.port_file:
        _write_port_file(args.port_file, server.server_address[1])
    sys.stdout.write(server.base_url + "\n")
    sys.stdout.flush()

    def stop(_signum, _frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

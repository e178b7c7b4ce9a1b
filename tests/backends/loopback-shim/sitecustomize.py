"""Keeps the Python backends started by the obs tests (Phoenix, MLflow) on
the loopback interface.

Python imports this module at start-up when its directory is on PYTHONPATH
(the tests set it for those servers only). Two guards:

* Phoenix's OTLP/gRPC receiver binds ``[::]:PORT`` whatever ``PHOENIX_HOST``
  says (hard-coded in ``phoenix/server/grpc_server.py``): every insecure bind
  on all interfaces is rewritten to ``127.0.0.1:PORT``.
* Name lookups of anything but a loopback name are refused and logged, so a
  test run proves nothing leaves the machine.

Each guard writes one ``obs-loopback-guard:`` line to stderr when it acts; the
tests assert on those lines.
"""

import socket
import sys

_LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback"}


def _is_loopback(host):
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = host.strip("[]").lower()
    # "" (the wildcard of a passive lookup) resolves nothing on the network.
    return host == "" or host in _LOOPBACK_NAMES or host.startswith("127.") or host in ("::1", "0:0:0:0:0:0:0:1")


_getaddrinfo = socket.getaddrinfo


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_loopback(host):
        sys.stderr.write("obs-loopback-guard: refused lookup of non-local name %r\n" % (host,))
        sys.stderr.flush()
        raise socket.gaierror(socket.EAI_NONAME, "obs loopback guard: %r is not a loopback name" % (host,))
    return _getaddrinfo(host, *args, **kwargs)


socket.getaddrinfo = _guarded_getaddrinfo


def _loopback_address(address):
    for wildcard in ("[::]:", "0.0.0.0:", "[::0]:"):
        if address.startswith(wildcard):
            return "127.0.0.1:" + address[len(wildcard):]
    return address


def _patch_grpc():
    try:
        from grpc.aio import _server
    except ModuleNotFoundError:  # no grpc (MLflow): no gRPC receiver to keep local
        return
    except Exception as e:
        sys.stderr.write("obs-loopback-guard: grpc.aio not patched (%s)\n" % (e,))
        return
    original = _server.Server.add_insecure_port

    def add_insecure_port(self, address):
        local = _loopback_address(address)
        if local != address:
            sys.stderr.write("obs-loopback-guard: gRPC bind %s rewritten to %s\n" % (address, local))
            sys.stderr.flush()
        return original(self, local)

    _server.Server.add_insecure_port = add_insecure_port


_patch_grpc()

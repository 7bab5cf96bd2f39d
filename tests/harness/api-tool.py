#!/usr/bin/python3
# Control-API test clients for harness scenarios (tests/harness/scenarios/api.sh).
#
#   api-tool.py tap-fd SOCK KITE NAME TAP   open tap TAP (vnet_hdr) and hand it over: add-fd NAME
#   api-tool.py garbage SOCK                malformed requests each get their error, then info works
#   api-tool.py bigline SOCK BYTES          a line of BYTES without newline: line-too-long, then EOF
#   api-tool.py noread SOCK N               N requests never read: kite must drop the connection
#   api-tool.py peercred SOCK UID           a client of another UID is disconnected unanswered
# Exit 0 when kite behaved as docs/api.md says; otherwise prints why and exits 1.
import fcntl, json, os, socket, struct, subprocess, sys, time

def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def read_line(f):
    line = f.readline()
    return json.loads(line) if line else None

def tap_fd(sock, kite, name, tap):
    TUNSETIFF = 0x400454ca
    IFF_TAP, IFF_NO_PI, IFF_VNET_HDR = 0x0002, 0x1000, 0x4000
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", tap.encode(), IFF_TAP | IFF_NO_PI | IFF_VNET_HDR))
    r = subprocess.run([kite, "ctl", sock, "add-fd", json.dumps({"name": name}), "--fd", str(fd)],
                       pass_fds=[fd])
    return r.returncode

def garbage(sock):
    cases = [
        (b"garbage", "parse-error"),
        (b"{", "parse-error"),
        (b"\xff\xfe", "parse-error"),
        (b"[]", "invalid-request"),
        (b'{"method":5}', "invalid-request"),
        (b'{"id":{},"method":"info"}', "invalid-request"),
        (b'{"id":1,"method":"info","extra":1}', "invalid-request"),
        (b'{"id":2,"method":"nope"}', "unknown-method"),
        (b'{"id":3,"method":"info","params":{"x":1}}', "invalid-params"),
        (b'{"id":4,"method":"info","params":[]}', "invalid-request"),
        (b'{"id":5,"method":"add-fd","params":{"name":"x"}}', "no-fd"),
        (b'{"id":6,"method":"configure","params":{"memory":"12Q"}}', None),  # state-dependent
    ]
    s = connect(sock)
    f = s.makefile("rb")
    for line, code in cases:
        s.sendall(line + b"\n")
        r = read_line(f)
        while r is not None and "event" in r:
            r = read_line(f)
        if r is None or "error" not in r:
            print("garbage: %r got %r" % (line, r))
            return 1
        if code and r["error"]["code"] != code:
            print("garbage: %r: expected %s, got %r" % (line, code, r))
            return 1
    s.sendall(b'{"id":7,"method":"info"}\n')
    r = read_line(f)
    while r is not None and "event" in r:
        r = read_line(f)
    if not r or r.get("id") != 7 or "result" not in r:
        print("garbage: info after garbage got %r" % (r,))
        return 1
    print("garbage: %d malformed requests refused one by one, then info answered" % len(cases))
    return 0

def bigline(sock, n):
    s = connect(sock)
    chunk = b"a" * 65536
    sent = 0
    try:
        while sent < n:
            s.sendall(chunk)
            sent += len(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.settimeout(10)
    data = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            data += d
    except ConnectionResetError:
        pass
    lines = [json.loads(l) for l in data.split(b"\n") if l.strip()]
    errs = [l for l in lines if "error" in l]
    if not errs or errs[0]["error"]["code"] != "line-too-long":
        print("bigline: after %d bytes got %r" % (sent, lines))
        return 1
    print("bigline: %d bytes sent, line-too-long then the connection closed" % sent)
    return 0

def noread(sock, n):
    s = connect(sock)
    s.settimeout(5)
    try:
        for i in range(n):
            s.sendall(b'{"id":%d,"method":"info"}\n' % i)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    time.sleep(2)
    s.settimeout(10)
    try:
        while s.recv(1 << 20):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        print("noread: kite kept the connection of a client that does not read")
        return 1
    print("noread: the non-reading client was disconnected")
    return 0

def peercred(sock, uid):
    os.chmod(sock, 0o666)
    pid = os.fork()
    if pid == 0:
        os.setgid(uid)
        os.setuid(uid)
        s = connect(sock)
        s.settimeout(10)
        try:
            s.sendall(b'{"id":1,"method":"info"}\n')
            d = s.recv(4096)
        except (ConnectionResetError, BrokenPipeError):
            d = b""
        os._exit(0 if d == b"" else 1)
    _, st = os.waitpid(pid, 0)
    os.chmod(sock, 0o600)
    ok = os.waitstatus_to_exitcode(st) == 0
    print("peercred: uid %d %s" % (uid, "disconnected unanswered" if ok else "was served"))
    return 0 if ok else 1

cmd = sys.argv[1]
if cmd == "tap-fd":
    sys.exit(tap_fd(*sys.argv[2:6]))
if cmd == "garbage":
    sys.exit(garbage(sys.argv[2]))
if cmd == "bigline":
    sys.exit(bigline(sys.argv[2], int(sys.argv[3])))
if cmd == "noread":
    sys.exit(noread(sys.argv[2], int(sys.argv[3])))
if cmd == "peercred":
    sys.exit(peercred(sys.argv[2], int(sys.argv[3])))
sys.exit(2)

#!/usr/bin/env python3
"""A stand-in of the AWS Lambda Runtime API, for the tests of `pghealthd lambda`.

Written from AWS's documentation of the Runtime API ("Using the Lambda
runtime API for custom runtimes", API version 2018-06-01):

  GET  /2018-06-01/runtime/invocation/next
       waits for an event; 200 with the event as the body and the headers
       Lambda-Runtime-Aws-Request-Id, Lambda-Runtime-Deadline-Ms,
       Lambda-Runtime-Invoked-Function-Arn, Lambda-Runtime-Trace-Id
  POST /2018-06-01/runtime/invocation/{AwsRequestId}/response   202
  POST /2018-06-01/runtime/invocation/{AwsRequestId}/error      202
  POST /2018-06-01/runtime/init/error                           202
       an unknown request id: 400; a body over 6 MB: 413

and, when serve is given a STORE file, the AWS Parameters and Secrets
Lambda Extension's localhost endpoint, from AWS's documentation ("Use
Secrets Manager secrets in Lambda functions", "Using Parameter Store
parameters in AWS Lambda functions"):

  GET /systemsmanager/parameters/get?name=NAME[&withDecryption=true]
       200 with GetParameter's JSON {"Parameter": {..., "Value"}, ...}
  GET /secretsmanager/get?secretId=ID
       200 with GetSecretValue's JSON {"ARN", "Name", "SecretString", ...}
       every request needs X-Aws-Parameters-Secrets-Token (the function's
       AWS_SESSION_TOKEN), else 401; the extension answers only in the
       INVOKE phase, so before the first event is handed out: 400; a name
       not in the store: 400 ParameterNotFound / ResourceNotFoundException

STORE is JSON, read again at every request (a test rotates a secret by
renaming a new file over it): {"token": T, "parameters": {NAME: VALUE},
"secure": [NAME...], "secrets": {ID: SECRET_STRING}}.  GET /test/ext-log on
the extension's port lists the names asked for, in order (never a value).

No AWS service can be reached where the tests run, so this is what
`pghealthd lambda` talks to there.  Besides the runtime's side it has the
caller's, as `aws lambda invoke` would be:

  lambda-runtime.py serve PORTFILE [TIMEOUT_S [STORE]]
      listen on 127.0.0.1 (a free port, written to PORTFILE); each
      invocation's deadline is TIMEOUT_S (default 30) after it is handed out;
      with STORE, the extension too (its port written to PORTFILE.ext)
  lambda-runtime.py invoke PORT EVENT_JSON
      invoke once; prints the function's answer, exits 0 for a response,
      2 for an error (the error printed), 1 when nothing came back in time
  lambda-runtime.py invoke-many PORT N EVENT_JSON
      invoke N times in turn; exits 1 unless every answer is a response
      with statusCode 200
  lambda-runtime.py invoke-bench PORT N EVENT_JSON
      invoke N times in turn, timing each; prints "N P50_MS P99_MS PER_S"
  lambda-runtime.py ext-log EXT_PORT
      prints the extension's log of names asked for (JSON)
  lambda-runtime.py init-error PORT
      prints what was posted to init/error, if anything (exit 0), else exit 1
"""
import http.client
import http.server
import json
import os
import queue
import sys
import threading
import time
import urllib.parse
import uuid

PAYLOAD_MAX = 6 * 1024 * 1024
PREFIX = "/2018-06-01/runtime"


class Runtime:
    def __init__(self, timeout_s):
        self.timeout_s = timeout_s
        self.events = queue.Queue()
        self.lock = threading.Lock()
        self.pending = {}  # request id -> [threading.Event, kind, body]
        self.init_error = None
        self.invoking = False  # an event was handed out: the INVOKE phase
        self.ext_log = []


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are two writes

    def log_message(self, fmt, *args):
        pass

    def reply(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        n = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(n) if n > 0 else b""

    def do_GET(self):
        rt = self.server.runtime
        if self.path == PREFIX + "/invocation/next":
            rid, event = rt.events.get()
            rt.invoking = True
            deadline = int((time.time() + rt.timeout_s) * 1000)
            self.reply(200, event, {
                "Lambda-Runtime-Aws-Request-Id": rid,
                "Lambda-Runtime-Deadline-Ms": str(deadline),
                "Lambda-Runtime-Invoked-Function-Arn":
                    "arn:aws:lambda:us-east-1:123456789012:function:pghealthd",
                "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000",
            })
        elif self.path == "/test/init-error":
            if rt.init_error is None:
                self.reply(404)
            else:
                self.reply(200, rt.init_error)
        else:
            self.reply(404)

    def do_POST(self):
        rt = self.server.runtime
        body = self.body()
        if len(body) > PAYLOAD_MAX:
            self.reply(413, b'{"errorMessage":"payload too large"}')
            return
        if self.path == PREFIX + "/init/error":
            rt.init_error = body
            self.reply(202, b'{"status":"OK"}')
            return
        if self.path == "/test/invoke":
            self.invoke(body)
            return
        parts = self.path[len(PREFIX):].split("/") if self.path.startswith(PREFIX) else []
        # ["", "invocation", id, "response" | "error"]
        if len(parts) == 4 and parts[1] == "invocation" and parts[3] in ("response", "error"):
            with rt.lock:
                slot = rt.pending.get(parts[2])
            if slot is None or slot[0].is_set():
                self.reply(400, b'{"errorMessage":"invalid request id","errorType":"InvalidRequestID"}')
                return
            slot[1], slot[2] = parts[3], body
            if parts[3] == "error":
                slot[2] = json.dumps({
                    "type": self.headers.get("Lambda-Runtime-Function-Error-Type", ""),
                    "body": json.loads(body or b"null"),
                }).encode()
            slot[0].set()
            self.reply(202, b'{"status":"OK"}')
            return
        self.reply(404)

    def invoke(self, event):
        rt = self.server.runtime
        rid = str(uuid.uuid4())
        slot = [threading.Event(), None, None]
        with rt.lock:
            rt.pending[rid] = slot
        rt.events.put((rid, event))
        if not slot[0].wait(rt.timeout_s + 5):
            self.reply(504, b'{"errorMessage":"Task timed out"}')
            return
        with rt.lock:
            del rt.pending[rid]
        self.reply(200, slot[2], {"X-Result": slot[1]})


class ExtensionHandler(Handler):
    ARN = "arn:aws:{}:us-east-1:123456789012:{}"

    def fail(self, code, kind, message):
        self.reply(code, json.dumps({"__type": kind, "message": message}).encode())

    def do_GET(self):
        rt = self.server.runtime
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/test/ext-log":
            self.reply(200, json.dumps(rt.ext_log).encode())
            return
        with open(self.server.store) as f:
            store = json.load(f)
        if self.headers.get("X-Aws-Parameters-Secrets-Token") != store["token"]:
            self.fail(401, "Unauthorized", "missing or wrong X-Aws-Parameters-Secrets-Token")
            return
        if not rt.invoking:
            self.fail(400, "NotReady", "the extension answers in the INVOKE phase only")
            return
        if url.path == "/systemsmanager/parameters/get" and "name" in query:
            name = query["name"][0]
            rt.ext_log.append("parameter " + name)
            if name not in store.get("parameters", {}):
                self.fail(400, "ParameterNotFound", "parameter {} not found".format(name))
                return
            secure = name in store.get("secure", [])
            decrypt = query.get("withDecryption", ["false"])[0] == "true"
            value = store["parameters"][name]
            self.reply(200, json.dumps({
                "Parameter": {
                    "ARN": self.ARN.format("ssm", "parameter/" + name.lstrip("/")),
                    "DataType": "text",
                    "LastModifiedDate": "2026-01-01T00:00:00.000Z",
                    "Name": name,
                    "Selector": None,
                    "SourceResult": None,
                    "Type": "SecureString" if secure else "String",
                    "Value": value if decrypt or not secure else "AQICAHh-encrypted",
                    "Version": 1,
                },
                "ResultMetadata": {},
            }).encode())
        elif url.path == "/secretsmanager/get" and "secretId" in query:
            sid = query["secretId"][0]
            rt.ext_log.append("secret " + sid)
            if sid not in store.get("secrets", {}):
                self.fail(400, "ResourceNotFoundException",
                          "Secrets Manager can't find the specified secret.")
                return
            self.reply(200, json.dumps({
                "ARN": sid if sid.startswith("arn:") else self.ARN.format("secretsmanager", "secret:" + sid),
                "CreatedDate": "2026-01-01T00:00:00.000Z",
                "Name": sid.split(":")[-1],
                "SecretString": store["secrets"][sid],
                "VersionId": str(uuid.uuid4()),
                "VersionStages": ["AWSCURRENT"],
                "ResultMetadata": {},
            }).encode())
        else:
            self.reply(404)

    def do_POST(self):
        self.reply(404)


def listen(handler, runtime, portfile):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    srv.daemon_threads = True
    srv.runtime = runtime
    with open(portfile + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(portfile + ".tmp", portfile)
    return srv


def serve(portfile, timeout_s, store):
    rt = Runtime(timeout_s)
    if store is not None:
        ext = listen(ExtensionHandler, rt, portfile + ".ext")
        ext.store = store
        threading.Thread(target=ext.serve_forever, daemon=True).start()
    listen(Handler, rt, portfile).serve_forever()


def invoke(port, event):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
    c.request("POST", "/test/invoke", body=event.encode())
    r = c.getresponse()
    body = r.read()
    sys.stdout.write(body.decode())
    if r.status != 200:
        return 1
    return 0 if r.getheader("X-Result") == "response" else 2


def invoke_many(port, n, event):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
    for i in range(n):
        c.request("POST", "/test/invoke", body=event.encode())
        r = c.getresponse()
        body = r.read()
        if r.status != 200 or r.getheader("X-Result") != "response" \
                or json.loads(body).get("statusCode") != 200:
            sys.stdout.write("invocation %d: %s\n" % (i + 1, body.decode()))
            return 1
    return 0


def invoke_bench(port, n, event):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=120)
    lat = []
    t0 = time.perf_counter()
    for i in range(n):
        t = time.perf_counter()
        c.request("POST", "/test/invoke", body=event.encode())
        r = c.getresponse()
        body = r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 200 or json.loads(body).get("statusCode") != 200:
            sys.stdout.write("invocation %d: %s\n" % (i + 1, body.decode()))
            return 1
    total = time.perf_counter() - t0
    lat.sort()
    print("%d %.2f %.2f %.0f" % (n, lat[n // 2] * 1000, lat[min(n - 1, n * 99 // 100)] * 1000,
                                 n / total))
    return 0


def init_error(port):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=10)
    c.request("GET", "/test/init-error")
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        return 1
    sys.stdout.write(body.decode())
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "serve":
        serve(sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 30.0,
              sys.argv[4] if len(sys.argv) > 4 else None)
    elif len(sys.argv) == 4 and sys.argv[1] == "invoke":
        sys.exit(invoke(sys.argv[2], sys.argv[3]))
    elif len(sys.argv) == 5 and sys.argv[1] == "invoke-many":
        sys.exit(invoke_many(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "invoke-bench":
        sys.exit(invoke_bench(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "ext-log":
        c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[2]), timeout=10)
        c.request("GET", "/test/ext-log")
        sys.stdout.write(c.getresponse().read().decode())
    elif len(sys.argv) == 3 and sys.argv[1] == "init-error":
        sys.exit(init_error(sys.argv[2]))
    else:
        sys.exit(__doc__)

#!/usr/bin/env python3
"""A tuned single-process Python client, for scripts/bench-pull.sh.

It does what `convoseal pull` does, the way a careful Python programmer would
with the `cryptography` package: the private key is loaded once, every request
(API and locations) goes over one kept-alive HTTP connection per host, and each
artifact is unwrapped (RSA-OAEP-SHA256) and opened (AES-256-GCM) in turn and
written to a file (no fsync).

    tuned_loop.py BASE_URL SERVICE_SID PRIVATE_KEY OUT_DIR
    tuned_loop.py --manifest N BASE_URL SERVICE_SID   # print N artifact locations

Credentials come from $TWILIO_ACCOUNT_SID and $TWILIO_AUTH_TOKEN. Prints one
JSON object: transcripts, artifacts, wall and CPU seconds, and the CPU seconds
spent in the unwrap and in AES-GCM.
"""
import base64
import http.client
import json
import os
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

AUTH = "Basic " + base64.b64encode(
    (os.environ["TWILIO_ACCOUNT_SID"] + ":" + os.environ["TWILIO_AUTH_TOKEN"]).encode()).decode()
conns = {}


def get(url, auth=True):
    u = urllib.parse.urlsplit(url)
    c = conns.get(u.netloc)
    if c is None:
        c = conns[u.netloc] = http.client.HTTPConnection(u.netloc, timeout=60)
    path = u.path + ("?" + u.query if u.query else "")
    c.request("GET", path, headers={"Authorization": AUTH} if auth else {})
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError("GET %s: HTTP %d" % (u.path, r.status))
    return body, r


def transcripts(base, service):
    url = base + "/v2/Transcripts?" + urllib.parse.urlencode({"ServiceSid": service, "Status": "completed", "PageSize": 1000})
    while url:
        page = json.loads(get(url)[0])
        for t in page["transcripts"]:
            yield t["sid"]
        url = page["meta"].get("next_page_url") if page["transcripts"] else None


def locations(base, sid):
    s = json.loads(get(base + "/v2/Transcripts/%s/Sentences/Encrypted" % sid)[0])
    o = json.loads(get(base + "/v2/Transcripts/%s/OperatorResults/Encrypted" % sid)[0])
    return [("sentences", s["location"])] + [("op%d" % i, l) for i, l in enumerate(o["locations"])]


def main():
    args = sys.argv[1:]
    if args[0] == "--manifest":
        n, base, service = int(args[1]), args[2].rstrip("/"), args[3]
        out = []
        for sid in transcripts(base, service):
            out += [l for _, l in locations(base, sid)]
            if len(out) >= n:
                break
        print("\n".join(out[:n]))
        return
    base, service, key_file, out_dir = args[0].rstrip("/"), args[1], args[2], args[3]
    t0, c0 = time.perf_counter(), time.process_time()
    with open(key_file, "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    unwrap_cpu = gcm_cpu = 0.0
    n_tr = n_art = 0
    nbytes = 0
    for sid in list(transcripts(base, service)):
        d = os.path.join(out_dir, sid)
        os.makedirs(d, mode=0o700, exist_ok=True)
        for name, loc in locations(base, sid):
            body, r = get(loc, auth=False)
            nbytes += len(body)
            wrapped = base64.b64decode(r.getheader("x-amz-meta-x-amz-key"))
            iv = base64.b64decode(r.getheader("x-amz-meta-x-amz-iv"))
            a = time.process_time()
            cek = key.decrypt(wrapped, oaep)
            b = time.process_time()
            plain = AESGCM(cek).decrypt(iv, body, None)
            unwrap_cpu += b - a
            gcm_cpu += time.process_time() - b
            fd = os.open(os.path.join(d, name + ".json"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.write(fd, plain)
            os.close(fd)
            n_art += 1
        n_tr += 1
    print(json.dumps({"transcripts": n_tr, "artifacts": n_art, "bytes": nbytes, "wall": time.perf_counter() - t0,
                      "cpu": time.process_time() - c0, "unwrap_cpu": unwrap_cpu, "gcm_cpu": gcm_cpu}))


if __name__ == "__main__":
    main()

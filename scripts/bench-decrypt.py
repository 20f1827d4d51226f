#!/usr/bin/env python3
"""A tuned single-process Python decryption loop, the reference that
scripts/bench-decrypt.sh sets convoseal against.

    bench-decrypt.py DIR [SECONDS]

DIR is what `benchdecrypt gen` wrote: private_key.pem and artifacts.jsonl
(base64 x-amz-key and x-amz-iv as a download's headers carry them, the body,
the plaintext's SHA-256). The loop does what the documented decryption script
does per artifact, minus its process start and file I/O: the private key is
loaded once, the OAEP padding object made once, and then per artifact
base64-decode the two headers, RSA-OAEP-SHA256 unwrap the CEK (Python's
`cryptography`, i.e. its OpenSSL) and AES-256-GCM decrypt with AESGCM.
Every plaintext's digest is checked once before timing. Prints one line of
key=value pairs; per_cpu_s is artifacts per CPU-second of the process.
"""

import base64
import hashlib
import json
import os
import sys
import time

import cryptography
from cryptography.hazmat.backends.openssl import backend
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def main() -> None:
    directory = sys.argv[1]
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
    with open(os.path.join(directory, "private_key.pem"), "rb") as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    arts = []
    with open(os.path.join(directory, "artifacts.jsonl")) as f:
        for line in f:
            a = json.loads(line)
            arts.append((a["key"], a["iv"], base64.b64decode(a["body"]), bytes.fromhex(a["sha256"])))
    oaep = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    b64 = base64.b64decode

    def open_one(a):
        cek = key.decrypt(b64(a[0]), oaep)
        return AESGCM(cek).decrypt(b64(a[1]), a[2], None)

    for i, a in enumerate(arts):
        if hashlib.sha256(open_one(a)).digest() != a[3]:
            sys.exit("artifact %d: plaintext digest mismatch" % i)

    n = 0
    cpu0, wall0 = time.process_time(), time.perf_counter()
    deadline = wall0 + seconds
    while True:
        for a in arts:
            open_one(a)
        n += len(arts)
        if time.perf_counter() >= deadline:
            break
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print("impl=python cryptography=%s openssl=%r artifacts=%d wall_s=%.3f cpu_s=%.3f per_wall_s=%.1f per_cpu_s=%.1f" % (
        cryptography.__version__, backend.openssl_version_text(), n, wall, cpu, n / wall, n / cpu))


if __name__ == "__main__":
    main()

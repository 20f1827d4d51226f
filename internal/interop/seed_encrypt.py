#!/usr/bin/env python3
"""
Seals a file the way the documented procedure expects, with Python's
cryptography package and nothing of convoseal's: a fresh 32-byte CEK and 12-byte
IV, AES-256-GCM (ciphertext || tag), the CEK wrapped with RSAES-OAEP (SHA-256,
MGF1-SHA-256, no label).

usage: seed_encrypt.py PUBLIC_KEY_PEM PLAINTEXT_FILE OUT_FILE
prints two lines: x-amz-key=<base64> and x-amz-iv=<base64>
"""

import base64
import os
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def main() -> None:
    public_key = serialization.load_pem_public_key(Path(sys.argv[1]).read_bytes())
    plaintext = Path(sys.argv[2]).read_bytes()
    cek = AESGCM.generate_key(bit_length=256)
    iv = os.urandom(12)
    body = AESGCM(cek).encrypt(iv, plaintext, None)  # ciphertext || tag
    wrapped = public_key.encrypt(
        cek,
        padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
    )
    Path(sys.argv[3]).write_bytes(body)
    print("x-amz-key=" + base64.b64encode(wrapped).decode())
    print("x-amz-iv=" + base64.b64encode(iv).decode())


if __name__ == "__main__":
    main()

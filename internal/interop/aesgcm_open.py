#!/usr/bin/env python3
"""usage: aesgcm_open.py CEK_FILE IV_B64 BODY_FILE OUT_FILE — AES-256-GCM open with Python's cryptography."""
import base64
import sys
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

cek = Path(sys.argv[1]).read_bytes()
iv = base64.b64decode(sys.argv[2])
Path(sys.argv[4]).write_bytes(AESGCM(cek).decrypt(iv, Path(sys.argv[3]).read_bytes(), None))

"""A stand-in for ``libb64.so.0d``, compiled on the spot when the system's cannot be fetched.

perf_analyzer links libb64 (a small base64 codec, Debian package ``libb64-0d``) and imports
five functions from it: ``base64_init_encodestate``, ``base64_encode_block``,
``base64_encode_blockend``, ``base64_init_decodestate`` and ``base64_decode_block``.  Its
callers allocate the state structs themselves, so this code keeps libb64's struct layouts and
its output: 72 characters per line and a final newline when encoding; characters outside the
alphabet (newlines, ``=``) skipped when decoding.  The code is our own.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

SONAME = "libb64.so.0d"

SOURCE = r"""
/* base64 with libb64's ABI, for perf_analyzer; see ovlite_serve/libb64_shim.py. */
typedef enum { ENC_FIRST, ENC_SECOND, ENC_THIRD } enc_step;
typedef struct { enc_step step; char carry; int groups; } enc_state;
typedef enum { DEC_FIRST, DEC_SECOND, DEC_THIRD, DEC_FOURTH } dec_step;
typedef struct { dec_step step; char carry; } dec_state;

static const char ALPHABET[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
enum { GROUPS_PER_LINE = 18 }; /* 18 groups of 4 characters: libb64's 72-character lines */

void base64_init_encodestate(enc_state *s) { s->step = ENC_FIRST; s->carry = 0; s->groups = 0; }

int base64_encode_block(const char *in, int length, char *out, enc_state *s) {
    char *o = out;
    for (int i = 0; i < length; i++) {
        unsigned b = (unsigned char)in[i], carry = (unsigned char)s->carry;
        switch (s->step) {
        case ENC_FIRST:
            *o++ = ALPHABET[b >> 2];
            s->carry = (char)((b & 0x03) << 4);
            s->step = ENC_SECOND;
            break;
        case ENC_SECOND:
            *o++ = ALPHABET[carry | (b >> 4)];
            s->carry = (char)((b & 0x0f) << 2);
            s->step = ENC_THIRD;
            break;
        case ENC_THIRD:
            *o++ = ALPHABET[carry | (b >> 6)];
            *o++ = ALPHABET[b & 0x3f];
            s->step = ENC_FIRST;
            if (++s->groups == GROUPS_PER_LINE) { *o++ = '\n'; s->groups = 0; }
            break;
        }
    }
    return (int)(o - out);
}

int base64_encode_blockend(char *out, enc_state *s) {
    char *o = out;
    if (s->step != ENC_FIRST) {
        *o++ = ALPHABET[(unsigned char)s->carry];
        *o++ = '=';
        if (s->step == ENC_SECOND) *o++ = '=';
    }
    *o++ = '\n';
    return (int)(o - out);
}

void base64_init_decodestate(dec_state *s) { s->step = DEC_FIRST; s->carry = 0; }

static int sextet(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

int base64_decode_block(const char *in, const int length, char *out, dec_state *s) {
    char *o = out;
    for (int i = 0; i < length; i++) {
        int v = sextet(in[i]);
        unsigned carry = (unsigned char)s->carry;
        if (v < 0) continue;
        switch (s->step) {
        case DEC_FIRST:
            s->carry = (char)(v << 2);
            s->step = DEC_SECOND;
            break;
        case DEC_SECOND:
            *o++ = (char)(carry | (unsigned)(v >> 4));
            s->carry = (char)((v & 0x0f) << 4);
            s->step = DEC_THIRD;
            break;
        case DEC_THIRD:
            *o++ = (char)(carry | (unsigned)(v >> 2));
            s->carry = (char)((v & 0x03) << 6);
            s->step = DEC_FOURTH;
            break;
        case DEC_FOURTH:
            *o++ = (char)(carry | (unsigned)v);
            s->step = DEC_FIRST;
            break;
        }
    }
    return (int)(o - out);
}
"""


def compiler() -> str | None:
    """The C compiler on PATH (``cc`` or ``gcc``), or None."""
    return shutil.which("cc") or shutil.which("gcc")


def build(folder: Path) -> Path:
    """Compile the stand-in into ``folder/libb64.so.0d``; RuntimeError says why it could not."""
    cc = compiler()
    if cc is None:
        raise RuntimeError("no C compiler (cc or gcc) on PATH")
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "libb64_shim.c"
    source.write_text(SOURCE)
    target = folder / SONAME
    command = [cc, "-O2", "-std=c99", "-shared", "-fPIC", f"-Wl,-soname,{SONAME}"]
    done = subprocess.run(
        [*command, "-o", str(target), str(source)], capture_output=True, text=True
    )
    source.unlink()
    if done.returncode != 0:
        raise RuntimeError(f"{cc} failed: {done.stderr.strip()}")
    return target

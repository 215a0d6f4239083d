"""Bit-exact NumPy port of the Rust benchmarks' input generation, so that the Python peers time
the very same inputs as `benches/*.rs`.

The Rust side draws with `rand` 0.9: `StdRng::seed_from_u64(seed)` (PCG32 expands the seed into a
32-byte key of ChaCha12, 64-bit block counter from 0, stream 0) and `random_range(lo..hi)` (for
f64: the top 52 bits of one u64 as a mantissa in [1, 2), minus 1, times `hi - lo`, plus `lo`;
for f32: the top 23 bits of one u32). The key stream is one flat sequence of u32 words: a u32
draw takes one word, a u64 draw two (low word first).

`python3 stdrng.py` prints the first values of the `0x5eed` stream, to compare with
`StdRng::seed_from_u64(0x5eed)` in Rust (see README.md).
"""

import numpy as np

_CONSTANTS = np.array([0x61707865, 0x3320646E, 0x79622D32, 0x6B206574], dtype=np.uint32)
_MASK64 = (1 << 64) - 1


def _pcg32_key(state):
    """The 8 key words `rand_core`'s default `seed_from_u64` derives from `state` (PCG32)."""
    mul, inc = 6364136223846793005, 11634580027462260723
    words = []
    for _ in range(8):
        state = (state * mul + inc) & _MASK64
        xorshifted = (((state >> 18) ^ state) >> 27) & 0xFFFFFFFF
        rot = state >> 59
        words.append(((xorshifted >> rot) | (xorshifted << ((32 - rot) & 31))) & 0xFFFFFFFF)
    return np.array(words, dtype=np.uint32)


def _rotl(v, n):
    return (v << np.uint32(n)) | (v >> np.uint32(32 - n))


def _chacha12(key, first_block, count):
    """`count` consecutive ChaCha12 blocks from block `first_block`, as a flat u32 array."""
    ctr = np.arange(first_block, first_block + count, dtype=np.uint64)
    init = np.zeros((16, count), dtype=np.uint32)
    init[0:4] = _CONSTANTS[:, None]
    init[4:12] = key[:, None]
    init[12] = (ctr & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    init[13] = (ctr >> np.uint64(32)).astype(np.uint32)
    s = [init[i].copy() for i in range(16)]

    def qr(a, b, c, d):
        s[a] += s[b]
        s[d] = _rotl(s[d] ^ s[a], 16)
        s[c] += s[d]
        s[b] = _rotl(s[b] ^ s[c], 12)
        s[a] += s[b]
        s[d] = _rotl(s[d] ^ s[a], 8)
        s[c] += s[d]
        s[b] = _rotl(s[b] ^ s[c], 7)

    for _ in range(6):  # 12 rounds = 6 double rounds
        qr(0, 4, 8, 12)
        qr(1, 5, 9, 13)
        qr(2, 6, 10, 14)
        qr(3, 7, 11, 15)
        qr(0, 5, 10, 15)
        qr(1, 6, 11, 12)
        qr(2, 7, 8, 13)
        qr(3, 4, 9, 14)
    out = np.stack(s) + init
    return out.T.reshape(-1)  # block after block, 16 words each


class StdRng:
    """`rand::rngs::StdRng` (rand 0.9) seeded with `seed_from_u64`."""

    def __init__(self, seed):
        self._key = _pcg32_key(seed)
        self._pos = 0  # next word of the key stream

    def _words(self, n):
        first, last = self._pos // 16, (self._pos + n + 15) // 16
        stream = _chacha12(self._key, first, last - first)
        off = self._pos - 16 * first
        self._pos += n
        return stream[off : off + n]

    def u32(self, n):
        return self._words(n)

    def u64(self, n):
        w = self._words(2 * n).astype(np.uint64)
        return w[0::2] | (w[1::2] << np.uint64(32))

    def uniform_f64(self, lo, hi, n):
        """`n` draws of `random_range(lo..hi)` (also `lo..=hi`) for f64."""
        bits = (self.u64(n) >> np.uint64(12)) | np.uint64(0x3FF0000000000000)
        value0_1 = bits.view(np.float64) - 1.0
        return value0_1 * (np.float64(hi) - np.float64(lo)) + np.float64(lo)

    def uniform_f32(self, lo, hi, n):
        """`n` draws of `random_range(lo..hi)` for f32."""
        bits = (self.u32(n) >> np.uint32(9)) | np.uint32(0x3F800000)
        value0_1 = bits.view(np.float32) - np.float32(1.0)
        return value0_1 * (np.float32(hi) - np.float32(lo)) + np.float32(lo)


def points(n, lo=-1.0, hi=1.0):
    """`points(n, lo, hi)` of `benches/peers.rs`: seed 0x5eed, uniform f64 in [lo, hi)."""
    return StdRng(0x5EED).uniform_f64(lo, hi, n)


def mlp_case(sizes, batch):
    """The inputs of `benches/nn.rs` for one MLP size: seed 1; `x` (batch × inputs, f32, uniform
    in [-1, 1), drawn column-major as the Rust `inputs × batch` matrix), one-hot `y`
    (batch × classes, sample j is class j mod classes), Glorot-uniform weights (out × in, drawn
    in f64 column-major and rounded to f32) and zero biases."""
    rng = StdRng(1)
    x = rng.uniform_f32(-1.0, 1.0, sizes[0] * batch).reshape(batch, sizes[0])
    classes = sizes[-1]
    y = np.zeros((batch, classes), dtype=np.float32)
    y[np.arange(batch), np.arange(batch) % classes] = 1.0
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        limit = np.sqrt(6.0 / max(fan_in + fan_out, 1))
        w = rng.uniform_f64(-limit, limit, fan_in * fan_out).astype(np.float32)
        params.append((w.reshape(fan_in, fan_out).T.copy(), np.zeros(fan_out, dtype=np.float32)))
    return x, y, params


def cnn_case():
    """The inputs of `benches/nn.rs`'s `cnn_training_step_f32`: seed 1; the convolution's
    weight (8 × 9, Flux's Glorot bound √(6/((1 + 8)·9)), drawn column-major, as PyTorch's
    (8, 1, 3, 3)) and zero bias; the dense layer's Glorot-uniform weight (10 × 1568) and zero
    bias; then `x` (batch 64 of 1 × 28 × 28 images, f32 uniform in [-1, 1)) and the labels
    (sample j is class j mod 10). All f32."""
    rng = StdRng(1)
    limit = np.sqrt(6.0 / ((1 + 8) * 9))
    conv = rng.uniform_f64(-limit, limit, 8 * 9).reshape(9, 8).T.reshape(8, 1, 3, 3)
    limit = np.sqrt(6.0 / (1568 + 10))
    dense = rng.uniform_f64(-limit, limit, 1568 * 10).reshape(1568, 10).T
    x = rng.uniform_f32(-1.0, 1.0, 784 * 64).reshape(64, 1, 28, 28)
    labels = np.arange(64) % 10
    f32 = np.float32
    return x, labels, [conv.astype(f32), np.zeros(8, f32), dense.astype(f32), np.zeros(10, f32)]


if __name__ == "__main__":
    np.set_printoptions(precision=17)
    print(points(4))
    x, y, params = mlp_case([4, 16, 3], 16)
    print(x[0], params[0][0][0, :4])

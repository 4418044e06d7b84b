"""Measure, on a real CUDA GPU, the kernels the GPU model costs, and write them as CSV.

Run (on a machine with a CUDA GPU and PyTorch):
``python benchmarks/measure_gpu.py --out h200_kernels.csv``; then, on any machine,
``python benchmarks/fidelity_gpu.py --measured h200_kernels.csv --gpu h200`` compares the model
with the file. ``--device cpu --quick`` runs tiny shapes on the CPU to check the script itself.

What is timed (PyTorch eager, BF16 unless named; CUDA events around each call, the median of
enough calls to fill ~50 ms after three warm-ups, operands left in place between calls):

- ``gemm``: square GEMMs, the Azure benchmarking guide's shapes, and every GEMM of one
  transformer layer of the Megatron-LM README's 1.7 B to 32 B GPT models (sequence 4,096,
  micro-batch 1) at each model's tensor-parallel shard: the forward ``X W^T``, the input gradient
  ``dY W`` and the weight gradient ``dY^T X``, each in the layout autograd runs it; FP8
  (``torch._scaled_mm``, per-tensor scales) squares beside them.
- ``decode``: the GEMMs of a decode step (a few tokens times Llama-3-8B's weights), where the
  weights' bytes, not the FLOPs, set the time.
- ``attention``: ``scaled_dot_product_attention`` with the flash and cuDNN back-ends, causal and
  not, forward and forward + backward.
- ``memory``: a copy, an add, layer norm and GELU forward + backward, cross-entropy over FP32
  logits, and a fused AdamW step: what the model prices as bandwidth-bound kernels.
- ``layer``: whole GPT blocks (layer norm, QKV, attention, projection, layer norm, MLP with
  GELU, residuals; no biases, no dropout) forward + backward at each Megatron model's shard
  (with PyTorch's choice of attention back-end, then with each forced), and
  each model's head (final norm, LM head, cross-entropy) forward + backward, with no
  communication: the compute a tensor-parallel rank does per micro-batch.
- ``step``: whole training steps of the 1.7 B GPT on one GPU (embedding, 24 blocks, tied LM
  head, cross-entropy; one or four 4,096-token micro-batches, then fused AdamW on BF16 weights):
  what one data-parallel rank of Megatron's 48-GPU run computes, without its communication.
- ``decode_step``: one decode step of Llama-3-8B's shapes (random weights, a static BF16 KV cache,
  GQA by grouping query heads, no RoPE or sampling) per batch and context, replayed from a CUDA
  graph as an inference server runs it.

Each row: ``kind, label, shape`` (JSON: the dimensions the model's kernel functions take),
``seconds`` (median per eager call), ``calls`` (how many were timed), ``graph_seconds`` (per call
replayed from a CUDA graph, for forward kernels under 300 us: the GPU's own time without the
~20 us eager PyTorch spends on the host per call; NaN elsewhere). A ``.json`` beside the CSV records the
device, driver, PyTorch and CUDA versions and the clocks and power read after the run.
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

SEQ = 4096
#: Megatron-LM README model table: (name, heads, hidden, tensor-parallel size), vocabulary 131,072
MEGATRON = (("1.7B", 16, 2048, 1), ("7.1B", 32, 4096, 2), ("16B", 48, 6144, 4),
            ("32B", 56, 7168, 8))  # fmt: skip
VOCAB = 131072


class Timer:
    """Median seconds per call of a zero-argument function on one device."""

    def __init__(self, device: str, target_s: float = 0.05):
        self.device, self.target_s = device, target_s

    def _sync(self):
        if self.device == "cuda":
            torch.cuda.synchronize()

    def __call__(self, fn, *, graph: bool = False) -> tuple[float, int, float]:
        """(median seconds per eager call, calls timed, seconds per call replayed from a CUDA
        graph). The graph time (NaN unless ``graph`` and the eager call is under
        :data:`GRAPH_BELOW_S` on a GPU) is the kernels' own: eager PyTorch spends ~20 us of host
        time per call, which hides a short kernel; inference servers replay graphs."""
        seconds, calls = self._median(fn)
        graphed = float("nan")
        if graph and self.device == "cuda" and seconds < GRAPH_BELOW_S:
            try:
                replay = _graph(fn, GRAPH_CALLS)
            except RuntimeError as err:  # an op this PyTorch cannot capture: eager time only
                print(f"graph capture failed ({str(err)[:80]})")
            else:
                graphed = self._median(replay)[0] / GRAPH_CALLS
        return seconds, calls, graphed

    def _median(self, fn) -> tuple[float, int]:
        for _ in range(3):
            fn()
        self._sync()
        t0 = time.perf_counter()
        fn()
        self._sync()
        once = max(time.perf_counter() - t0, 1e-6)
        calls = int(min(200, max(5, self.target_s / once)))
        if self.device != "cuda":
            times = []
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                times.append(time.perf_counter() - t0)
            return sorted(times)[calls // 2], calls
        events = [(torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True))
                  for _ in range(calls)]  # fmt: skip
        for start, end in events:
            start.record()
            fn()
            end.record()
        torch.cuda.synchronize()
        times = sorted(s.elapsed_time(e) * 1e-3 for s, e in events)
        return times[calls // 2], calls


#: Kernels shorter than this (eager) are also timed from a CUDA graph of GRAPH_CALLS calls.
GRAPH_BELOW_S = 300e-6
GRAPH_CALLS = 20


def _graph(fn, calls: int):
    """A function replaying ``calls`` calls of ``fn`` captured in one CUDA graph (forward only)."""
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        for _ in range(calls):
            fn()
    return graph.replay


def layer_shapes(heads: int, hidden: int, tp: int) -> dict[str, tuple[int, int]]:
    """(out, in) features of each weight of one GPT layer on one tensor-parallel rank."""
    return {"qkv": (3 * hidden // tp, hidden), "out_proj": (hidden, hidden // tp),
            "ffn_up": (4 * hidden // tp, hidden), "ffn_down": (hidden, 4 * hidden // tp)}  # fmt: skip


def gemm_rows(timer, dev, quick):
    """Square, Azure and per-layer GEMMs in BF16, and FP8 squares."""
    bf16 = torch.bfloat16
    cases = []  # (label, (m, n, k), layout)
    sizes = (64, 128) if quick else (512, 1024, 2048, 4096, 8192, 16384)
    cases += [(f"square {s}", (s, s, s), "nt") for s in sizes]
    if not quick:
        cases += [("azure", shape, "nt") for shape in
                  ((1024, 2145, 1024), (6144, 12288, 12288), (802816, 192, 768))]  # fmt: skip
    models = MEGATRON[:1] if quick else MEGATRON
    tokens = 64 if quick else SEQ
    for name, heads, hidden, tp in models:
        hidden_q = hidden // 32 if quick else hidden
        for weight, (n, k) in layer_shapes(heads, hidden_q, tp).items():
            # the model's convention: forward (T, n, k), dgrad (T, k, n), wgrad (k, n, T)
            cases += [(f"{name} {weight} fwd", (tokens, n, k), "nt"),
                      (f"{name} {weight} dgrad", (tokens, k, n), "nn"),
                      (f"{name} {weight} wgrad", (k, n, tokens), "tn")]  # fmt: skip
        cases.append((f"{name} lm_head fwd", (tokens, (VOCAB // 64 if quick else VOCAB) // tp,
                                              hidden_q), "nt"))  # fmt: skip
    for label, (m, n, k), layout in cases:
        if layout == "nt":  # X[m, k] W[n, k]^T, as F.linear
            a, b = (
                torch.randn(m, k, device=dev, dtype=bf16),
                torch.randn(n, k, device=dev, dtype=bf16),
            )
            fn = lambda a=a, b=b: F.linear(a, b)  # noqa: E731
        elif layout == "nn":  # dY[m, k] W[k, n]
            a, b = (
                torch.randn(m, k, device=dev, dtype=bf16),
                torch.randn(k, n, device=dev, dtype=bf16),
            )
            fn = lambda a=a, b=b: a @ b  # noqa: E731
        else:  # dY^T X: both stored (k, .) row-major, the first read transposed
            a, b = (
                torch.randn(k, m, device=dev, dtype=bf16),
                torch.randn(k, n, device=dev, dtype=bf16),
            )
            fn = lambda a=a, b=b: a.t() @ b  # noqa: E731
        yield (
            "gemm",
            label,
            {"m": m, "n": n, "k": k, "dtype": "bf16", "layout": layout},
            *timer(fn, graph=True),
        )
        del a, b
    if dev != "cuda" or not hasattr(torch, "_scaled_mm"):
        return
    for s in sizes:
        a = torch.randn(s, s, device=dev).to(torch.float8_e4m3fn)
        b = torch.randn(s, s, device=dev).to(torch.float8_e4m3fn).t()  # column-major, as required
        one = torch.ones((), device=dev)
        fn = lambda a=a, b=b, one=one: torch._scaled_mm(  # noqa: E731
            a, b, scale_a=one, scale_b=one, out_dtype=bf16
        )
        try:
            times = timer(fn, graph=True)
        except RuntimeError as err:  # an FP8 path this PyTorch build lacks
            print(f"fp8 {s}: skipped ({err})")
            continue
        yield (
            "gemm",
            f"fp8 square {s}",
            {"m": s, "n": s, "k": s, "dtype": "fp8", "layout": "nt"},
            *times,
        )


#: Llama-3-8B's weights (out, in features): QKV with 8 KV heads, output, gated MLP up, down, LM
#: head (Meta Llama 3 model card / config.json: hidden 4096, FFN 14336, vocabulary 128256).
LLAMA3_8B = {"qkv": (6144, 4096), "out_proj": (4096, 4096), "ffn_up": (28672, 4096),
             "ffn_down": (4096, 14336), "lm_head": (128256, 4096)}  # fmt: skip


def decode_rows(timer, dev, quick):
    """Skinny GEMMs: ``tokens`` rows against a whole weight matrix (``X W^T``)."""
    bf16 = torch.bfloat16
    for weight, (n, k) in LLAMA3_8B.items():
        n, k = (n // 64, k // 64) if quick else (n, k)
        w = torch.randn(n, k, device=dev, dtype=bf16)
        for tokens in (1, 8, 32, 128):
            x = torch.randn(tokens, k, device=dev, dtype=bf16)
            shape = {"m": tokens, "n": n, "k": k, "dtype": "bf16", "layout": "nt"}
            yield (
                "gemm",
                f"decode {weight}",
                shape,
                *timer(lambda x=x, w=w: F.linear(x, w), graph=True),
            )


def _backends(dev) -> dict:
    """The SDPA back-ends timed: FlashAttention-2 and cuDNN on a GPU, the reference elsewhere."""
    if dev != "cuda":
        return {"math": SDPBackend.MATH}
    return {"flash": SDPBackend.FLASH_ATTENTION, "cudnn": SDPBackend.CUDNN_ATTENTION}


def attention_rows(timer, dev, quick):
    """Fused attention forward and forward + backward, per back-end and mask."""
    backends = _backends(dev)
    shapes = [(1, 2, 128, 64)] if quick else (
        [(2, 16, 8192, 128), (2, 32, 8192, 64), (1, 16, 2048, 128), (1, 16, 16384, 128)]
        + [(1, heads // tp, SEQ, hidden // heads) for _, heads, hidden, tp in MEGATRON])  # fmt: skip
    for backend, which in backends.items():
        for b, h, s, d in dict.fromkeys(shapes):
            q, k, v = (torch.randn(b, h, s, d, device=dev, dtype=torch.bfloat16, requires_grad=True)
                       for _ in range(3))  # fmt: skip
            g = torch.randn(b, h, s, d, device=dev, dtype=torch.bfloat16)
            for causal in (True, False):
                fwd = lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)  # noqa: E731, B023

                def both():
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal).backward(g)  # noqa: B023

                shape = {"batch": b, "heads": h, "seq": s, "head_dim": d, "causal": causal}
                try:
                    with sdpa_kernel(which):
                        for label, fn in (("fwd", fwd), ("fwd+bwd", both)):
                            times = timer(fn, graph=label == "fwd")
                            yield "attention", f"{backend} {label}", shape, *times
                except RuntimeError as err:  # back-end not available for this shape or build
                    print(f"attention {backend} {shape}: skipped ({str(err)[:80]})")


def memory_rows(timer, dev, quick):
    """Bandwidth-bound kernels, with the bytes each must move at least."""
    bf16 = torch.bfloat16
    n = 1 << (16 if quick else 29)  # 1 GiB of BF16
    x, y = torch.randn(n, device=dev, dtype=bf16), torch.empty(n, device=dev, dtype=bf16)
    yield "memory", "copy", {"bytes": 4 * n}, *timer(lambda: y.copy_(x), graph=True)
    z = torch.empty_like(x)
    yield "memory", "add", {"bytes": 6 * n}, *timer(lambda: torch.add(x, y, out=z), graph=True)
    rows, width = (64, 256) if quick else (8 * SEQ, 4096)
    x = torch.randn(rows, width, device=dev, dtype=bf16, requires_grad=True)
    g = torch.randn(rows, width, device=dev, dtype=bf16)
    w = torch.ones(width, device=dev, dtype=bf16, requires_grad=True)
    size = 2 * rows * width  # bytes of one BF16 activation
    for name, op in (("layer_norm", lambda t: F.layer_norm(t, (width,), w)),
                     ("gelu", lambda t: F.gelu(t, approximate="tanh"))):  # fmt: skip
        yield "memory", f"{name} fwd", {"bytes": 2 * size}, *timer(lambda op=op: op(x), graph=True)
        yield (
            "memory",
            f"{name} fwd+bwd",
            {"bytes": 5 * size},
            *timer(lambda op=op: op(x).backward(g)),
        )
    tokens, vocab = (64, 512) if quick else (SEQ, VOCAB)
    logits = torch.randn(tokens, vocab, device=dev, dtype=torch.float32, requires_grad=True)
    target = torch.randint(0, vocab, (tokens,), device=dev)
    yield ("memory", "cross_entropy fwd+bwd", {"bytes": 2 * 4 * tokens * vocab},
           *timer(lambda: F.cross_entropy(logits, target).backward()))  # fmt: skip
    params = 1 << (12 if quick else 28)
    p = torch.nn.Parameter(torch.randn(params, device=dev))
    p.grad = torch.randn_like(p)
    opt = torch.optim.AdamW([p], lr=1e-4, fused=dev == "cuda")
    # reads param, grad, two moments; writes param and two moments: 7 x 4 bytes per parameter
    yield "memory", "adamw fused step", {"bytes": 28 * params, "params": params}, *timer(opt.step)


class Block(torch.nn.Module):
    """A GPT layer on one tensor-parallel rank (its share of heads and MLP), without biases."""

    def __init__(self, hidden, heads, head_dim, ffn):
        super().__init__()
        self.heads, self.head_dim = heads, head_dim
        self.norm1, self.norm2 = torch.nn.LayerNorm(hidden), torch.nn.LayerNorm(hidden)
        self.qkv = torch.nn.Linear(hidden, 3 * heads * head_dim, bias=False)
        self.proj = torch.nn.Linear(heads * head_dim, hidden, bias=False)
        self.up = torch.nn.Linear(hidden, ffn, bias=False)
        self.down = torch.nn.Linear(ffn, hidden, bias=False)

    def forward(self, x):
        b, s, _ = x.shape
        q, k, v = (
            self.qkv(self.norm1(x)).view(b, s, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        )
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(a.transpose(1, 2).reshape(b, s, -1))
        return x + self.down(F.gelu(self.up(self.norm2(x)), approximate="tanh"))


def layer_rows(timer, dev, quick):
    """GPT blocks and heads forward + backward per Megatron model shard."""
    stack = 4  # layers per timed call, so one call runs well past launch overheads
    for name, heads, hidden, tp in MEGATRON[:1] if quick else MEGATRON:
        h, d = (hidden // 32, heads) if quick else (hidden, heads)
        dh = h // d
        seq = 64 if quick else SEQ
        blocks = torch.nn.Sequential(*[Block(h, d // tp, dh, 4 * h // tp) for _ in range(stack)])
        blocks = blocks.to(dev, torch.bfloat16)
        x = torch.randn(1, seq, h, device=dev, dtype=torch.bfloat16, requires_grad=True)
        g = torch.randn_like(x)
        shape = {"hidden": h, "heads": d, "tp": tp, "seq": seq, "layers": stack}
        yield "layer", f"{name} layers fwd+bwd", shape, *timer(lambda: blocks(x).backward(g))  # noqa: B023
        # the same blocks with each SDPA back-end forced (the default row is PyTorch's pick)
        for backend, which in _backends(dev).items():
            try:
                with sdpa_kernel(which):
                    times = timer(lambda: blocks(x).backward(g))  # noqa: B023
            except RuntimeError as err:
                print(f"layers {backend}: skipped ({str(err)[:80]})")
                continue
            yield "layer", f"{name} layers fwd+bwd {backend}", shape, *times
        vocab = (VOCAB // 64 if quick else VOCAB) // tp
        norm = torch.nn.LayerNorm(h).to(dev, torch.bfloat16)
        head = torch.nn.Linear(h, vocab, bias=False).to(dev, torch.bfloat16)
        target = torch.randint(0, vocab, (seq,), device=dev)
        y = torch.randn(seq, h, device=dev, dtype=torch.bfloat16, requires_grad=True)

        def head_step():
            logits = head(norm(y)).float()  # noqa: B023
            F.cross_entropy(logits, target).backward()  # noqa: B023

        shape = {"hidden": h, "vocab": vocab, "seq": seq}
        yield "layer", f"{name} head fwd+bwd", shape, *timer(head_step)


class Gpt(torch.nn.Module):
    """A whole GPT on one GPU: embedding, blocks, final norm, tied LM head, cross-entropy."""

    def __init__(self, hidden, heads, layers, vocab):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, hidden)
        self.blocks = torch.nn.Sequential(
            *[Block(hidden, heads, hidden // heads, 4 * hidden) for _ in range(layers)]
        )
        self.norm = torch.nn.LayerNorm(hidden)

    def forward(self, tokens):
        x = self.norm(self.blocks(self.embed(tokens)))
        logits = F.linear(x, self.embed.weight).float()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), tokens.view(-1))


def step_rows(timer, dev, quick):
    """Whole training steps of the Megatron README's 1.7 B GPT on one GPU (no communication):
    ``m`` micro-batches of one 4,096-token sequence, gradients accumulated, then fused AdamW."""
    hidden, heads, layers, vocab, seq = (64, 4, 2, 512, 64) if quick else (2048, 16, 24, VOCAB, SEQ)
    model = Gpt(hidden, heads, layers, vocab).to(dev, torch.bfloat16)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-5, fused=dev == "cuda")
    tokens = torch.randint(0, vocab, (1, seq), device=dev)
    for micro in (1, 4):

        def train_step():
            opt.zero_grad(set_to_none=True)
            for _ in range(micro):  # noqa: B023
                model(tokens).backward()
            opt.step()

        shape = {"hidden": hidden, "heads": heads, "layers": layers, "vocab": vocab, "seq": seq,
                 "microbatches": micro, "params": sum(p.numel() for p in model.parameters())}  # fmt: skip
        yield "step", f"1.7B step x{micro}", shape, *timer(train_step)


class LlamaDecoder(torch.nn.Module):
    """Llama-3-8B's shapes (Meta's config.json: hidden 4096, 32 layers, 32 query and 8 KV heads
    of 128, gated FFN 14336, vocabulary 128256) with random weights: one decode step over a
    static KV cache, the form an inference server captures in a CUDA graph."""

    def __init__(self, layers=32, hidden=4096, heads=32, kv_heads=8, ffn=14336, vocab=128256):
        super().__init__()
        self.layers, self.heads, self.kv_heads, self.dh = layers, heads, kv_heads, hidden // heads
        linear = lambda i, o: torch.nn.ModuleList(  # noqa: E731
            torch.nn.Linear(i, o, bias=False) for _ in range(layers)
        )
        self.qkv = linear(hidden, (heads + 2 * kv_heads) * self.dh)
        self.out, self.up, self.down = (
            linear(hidden, hidden),
            linear(hidden, 2 * ffn),
            linear(ffn, hidden),
        )
        self.head = torch.nn.Linear(hidden, vocab, bias=False)
        self.norm = torch.nn.RMSNorm(hidden)

    def forward(self, x, cache):
        b = x.shape[0]
        group = self.heads // self.kv_heads
        sizes = [self.heads * self.dh, self.kv_heads * self.dh, self.kv_heads * self.dh]
        for i in range(self.layers):
            q, _, _ = self.qkv[i](self.norm(x)).split(sizes, -1)
            # GQA without copying the cache: each KV head's query group as its query rows
            q = q.view(b, self.kv_heads, group, self.dh)
            a = F.scaled_dot_product_attention(q, cache[i, 0], cache[i, 1])
            x = x + self.out[i](a.reshape(b, -1))
            gate, up = self.up[i](self.norm(x)).chunk(2, -1)
            x = x + self.down[i](F.silu(gate) * up)
        return self.head(self.norm(x))


def decode_step_rows(timer, dev, quick):
    """One Llama-3-8B decode step (every layer, the LM head) per batch and context: eager, and
    on a GPU replayed from a CUDA graph of one step."""
    cases = [(1, 256)] if quick else [(1, 1024), (1, 4096), (8, 4096), (32, 4096), (64, 2048)]
    kw = (
        {"layers": 2, "hidden": 256, "heads": 8, "kv_heads": 2, "ffn": 512, "vocab": 1024}
        if quick
        else {}
    )
    with torch.device(dev):  # built where it runs: eight billion weights initialise fast there
        model = LlamaDecoder(**kw).to(torch.bfloat16)
    hidden, kv_heads = kw.get("hidden", 4096), kw.get("kv_heads", 8)
    for batch, context in cases:
        cache = torch.randn(model.layers, 2, batch, kv_heads, context, model.dh, device=dev,
                            dtype=torch.bfloat16)  # fmt: skip
        x = torch.randn(batch, hidden, device=dev, dtype=torch.bfloat16)
        step = lambda x=x, cache=cache: model(x, cache)  # noqa: E731
        with torch.no_grad():
            seconds, calls, _ = timer(step)
            graphed = timer._median(_graph(step, 1))[0] if dev == "cuda" else float("nan")
        shape = {"batch": batch, "context": context, "model": "quick" if quick else "llama3_8b"}
        yield (
            "decode_step",
            f"llama3_8b decode b{batch} ctx{context}",
            shape,
            seconds,
            calls,
            graphed,
        )


def device_facts(dev) -> dict:
    facts = {"torch": torch.__version__, "device": dev}
    if dev == "cuda":
        facts |= {"name": torch.cuda.get_device_name(), "cuda": torch.version.cuda,
                  "sms": torch.cuda.get_device_properties(0).multi_processor_count}  # fmt: skip
        query = "driver_version,clocks.sm,clocks.max.sm,clocks.mem,power.draw,power.limit,temperature.gpu"
        try:
            out = subprocess.run(["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"],
                                 capture_output=True, text=True, timeout=20).stdout.strip()  # fmt: skip
            facts["nvidia_smi"] = dict(
                zip(query.split(","), (v.strip() for v in out.split(",")), strict=False)
            )
        except (OSError, subprocess.SubprocessError) as err:
            facts["nvidia_smi"] = f"unavailable: {err}"
    return facts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny shapes (a check of the script)")
    parser.add_argument(
        "--only",
        nargs="*",
        default=["gemm", "decode", "attention", "memory", "layer", "step", "decode_step"],
    )
    args = parser.parse_args()
    torch.manual_seed(0)
    timer = Timer(args.device, 0.005 if args.quick else 0.05)
    sections = {"gemm": gemm_rows, "decode": decode_rows, "attention": attention_rows,
                "memory": memory_rows, "layer": layer_rows, "step": step_rows,
                "decode_step": decode_step_rows}  # fmt: skip
    started = time.time()
    with open(args.out, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["kind", "label", "shape", "seconds", "calls", "graph_seconds"])
        for name in args.only:
            for kind, label, shape, seconds, calls, graphed in sections[name](
                timer, args.device, args.quick
            ):
                dims = json.dumps(shape, sort_keys=True)
                out.writerow([kind, label, dims, f"{seconds:.6e}", calls, f"{graphed:.6e}"])
                f.flush()
                print(f"{kind:<9} {label:<28} {dims:<72} {seconds * 1e3:10.4f} ms "
                      f"(graph {graphed * 1e3:.4f} ms)", flush=True)  # fmt: skip
            if args.device == "cuda":
                torch.cuda.empty_cache()
    facts = device_facts(args.device) | {"wall_s": round(time.time() - started, 1)}
    args.out.with_suffix(".json").write_text(json.dumps(facts, indent=1) + "\n")
    print(json.dumps(facts))


if __name__ == "__main__":
    main()

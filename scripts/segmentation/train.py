#!/usr/bin/python3
"""Offline training of the OsteoScreen vertebral-body segmenter (models/vertebrae-seg.onnx).

Run with Debian's python (python3-torch 1.13 CPU, python3-onnx); the full command sequence is in
models/vertebrae-seg.md:
    /usr/bin/python3 scripts/segmentation/train.py --data /tmp/segtrain,/tmp/segtrain2 --real /tmp/segreal \
        --real-p 0.35 --out models/vertebrae-seg.onnx --iters 2000 --crop 144 --batch 8 --seed 1234 --threads 2 \
        --fixture test/fixtures/segmentation/equivalence.bin

Input: the folders written by scripts/segmentation/export-training.mjs (phantom anatomy, wide protocol) and
scripts/segmentation/export-generator.mjs (phantom generator studies, all vendors): index.json + raw .f32/.u8
arrays on the model grid (1.25 mm, canonical sagittal orientation, see src/segmentation/slices.ts).

Every training sample is re-synthesised (SynthSeg-style) so the network does not learn the phantom's look:
 - 65 % of samples: image drawn from the tissue label map with a random mean/SD per tissue class,
   35 %: the phantom's own T1/T2 rendering;
 - then for all: random rotation/scale/translation (pose, field of view, resolution), random partial-volume mix
   of neighbouring slices (slice thickness), down/up-sampling and Gaussian blur, a smooth multiplicative bias
   field, gamma, Gaussian noise, and finally the same robust percentile normalisation as the product
   (src/segmentation/normalise.ts).
Classes: 0 background, 1 vertebral body (T/L), 2 sacrum, 3 CSF, 4 subcutaneous fat.

Phantom samples also get distractors where real images fooled the phantom-only network (labelled background):
round/oval "bowel loops" of any intensity (some with a bright or dark rim) in front of the spine, a large
bladder-like region low in front of the sacrum, and a random extra tilt of the sacral region.

Real cases (--real, written by scripts/segmentation/export-real.mjs: real image only, no tissue map) are drawn with
probability --real-p. Their targets are partial labels: 1 = expert body (T11-L5), 250 = known "not a T11-L5 body"
(loss -log(1 - p_body): the mass may go to any other class, so the unlabelled real S1 learns "not body" while the
phantom teaches "sacrum"), 255 = ignore (above T11, where unlabelled thoracic bodies are visible). Dice on real
samples covers the body class only. Real images get a random monotone intensity remap (other scanners).
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N_CLASSES = 5
N_TISSUES = 10
REAL_NOT_BODY = 250
REAL_IGNORE = 255


def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# ----------------------------------------------------------------------------------------------- model
class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
            nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    def forward(self, x):
        return self.net(x)


class UNet(nn.Module):
    """2.5-D U-Net: 3 adjacent sagittal slices in, 5 class probabilities out. 4 poolings (H, W multiple of 16)."""

    def __init__(self, cin=3, ncls=N_CLASSES, ch=(8, 16, 32, 64, 128)):
        super().__init__()
        self.enc = nn.ModuleList()
        c = cin
        for co in ch:
            self.enc.append(Block(c, co))
            c = co
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for lo, hi in zip(reversed(ch[:-1]), reversed(ch[1:])):
            self.up.append(nn.Conv2d(hi, lo, 1))
            self.dec.append(Block(2 * lo, lo))
        self.head = nn.Conv2d(ch[0], ncls, 1)

    def forward(self, x):
        skips = []
        for i, b in enumerate(self.enc):
            x = b(x)
            if i < len(self.enc) - 1:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for up, dec in zip(self.up, self.dec):
            x = F.interpolate(x, scale_factor=2.0, mode='nearest')
            x = up(x)
            x = dec(torch.cat([x, skips.pop()], 1))
        return self.head(x)


class WithSoftmax(nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        return torch.softmax(self.m(x), dim=1)


# ----------------------------------------------------------------------------------------------- data
def load_data(folders):
    """Loads one or more export folders (comma-separated)."""
    index = {'studies': []}
    studies = []
    for folder in folders.split(','):
        with open(os.path.join(folder, 'index.json')) as f:
            part = json.load(f)
        for s in part['studies']:
            index['studies'].append(s)
            studies.append(load_study(folder, s))
    return index, studies


def load_study(folder, s):
    nz, h, w = s['nz'], s['height'], s['width']
    rd = lambda name, dt: np.fromfile(os.path.join(folder, name), dtype=dt).reshape(nz, h, w)
    st = {'id': s['id'], 'real': s.get('kind') == 'real',
          'tissue': torch.from_numpy(rd(s['tissue'], np.uint8)) if s.get('tissue') else None,
          'target': torch.from_numpy(rd(s['target'], np.uint8)),
          'images': [torch.from_numpy(rd(f, np.float32).copy()) for f in s['images']]}
    return st


def normalise(x):
    """Same rule as src/segmentation/normalise.ts: foreground = values > 10 % of the 99.5th percentile;
    its 1st and 99th percentiles map to 0 and 1; clip to [-1, 3]."""
    flat = x.reshape(-1)
    if flat.numel() > 262144:
        flat = flat[:: flat.numel() // 262144]
    top = torch.quantile(flat, 0.995)
    fg = flat[flat > 0.1 * top]
    if fg.numel() < 16:
        return torch.zeros_like(x)
    lo = torch.quantile(fg, 0.01)
    hi = torch.quantile(fg, 0.99)
    if hi - lo < 1e-6:
        return torch.zeros_like(x)
    return ((x - lo) / (hi - lo)).clamp(-1, 3)


def smooth_field(h, w, gen, scale):
    g = torch.randn(1, 1, 5, 5, generator=gen) * scale
    return F.interpolate(g, size=(h, w), mode='bicubic', align_corners=True)[0, 0]


def gauss_blur(x, sigma):
    if sigma < 0.3:
        return x
    r = int(math.ceil(3 * sigma))
    t = torch.arange(-r, r + 1, dtype=torch.float32)
    k = torch.exp(-t * t / (2 * sigma * sigma))
    k = k / k.sum()
    c = x.shape[0]
    x = F.conv2d(x[None], k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), padding=(0, r), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), padding=(r, 0), groups=c)
    return x[0]


def monotone_remap(img, gen, knots=6, spread=0.7):
    """Random monotone piecewise-linear intensity curve on [0, 1] (histogram augmentation: other scanners)."""
    inc = torch.exp(torch.randn(knots, generator=gen) * spread)
    y = torch.cat([torch.zeros(1), torch.cumsum(inc, 0)])
    y = y / y[-1]
    x = img.clamp(0, 1) * knots
    i = x.floor().clamp(0, knots - 1).long()
    f = x - i.float()
    return y[i] + (y[i + 1] - y[i]) * f


def _ellipse(h, w, cy, cx, a, b, ang):
    yy = torch.arange(h, dtype=torch.float32)[:, None] - cy
    xx = torch.arange(w, dtype=torch.float32)[None, :] - cx
    ca, sa = math.cos(ang), math.sin(ang)
    u = (xx * ca + yy * sa) / a
    v = (-xx * sa + yy * ca) / b
    return torch.sqrt(u * u + v * v)  # 1 on the outline


def paint_blob(img, tgt, gen, cy, cx, a, b, level, rim_p=0.5):
    """Paints an oval (soft edge, texture, optional bright/dark rim) into all channels; its pixels become
    background in the target, except vertebral body / sacrum pixels, which are never painted over."""
    rnd = lambda: float(torch.rand(1, generator=gen))
    c, h, w = img.shape
    d = _ellipse(h, w, cy, cx, a, b, rnd() * math.pi)
    keep = (tgt != 1) & (tgt != 2)
    alpha = ((1 - d) * min(a, b) / (0.5 + 2 * rnd())).clamp(0, 1) * keep.float()
    if float(alpha.sum()) < 1:
        return img, tgt
    val = torch.full((h, w), level)
    if rnd() < rim_p:
        rw = (1 + 3 * rnd()) / min(a, b)
        rim = ((d > 1 - rw) & (d < 1)).float()
        rim_level = level * (0.2 + 0.6 * rnd()) if rnd() < 0.5 else level + (0.3 + 0.7 * rnd()) * max(level, 0.3)
        val = val * (1 - rim) + rim * rim_level
    if rnd() < 0.6:  # bowel content: mottled texture
        tex = F.interpolate(torch.randn(1, 1, max(2, h // 6), max(2, w // 6), generator=gen), size=(h, w), mode='bilinear', align_corners=False)[0, 0]
        val = val * (1 + tex * 0.35 * rnd())
    val = val.clamp(min=0)
    # neighbouring channels: slightly different extent (the loop is a 3-D object)
    out = img.clone()
    for ch in range(c):
        al = alpha if ch == 1 else (alpha * (0.6 + 0.4 * rnd()))
        out[ch] = img[ch] * (1 - al) + val * al
    tgt = tgt.clone()
    tgt[(alpha > 0.5) & keep] = 0
    return out, tgt


def add_distractors(img, tgt, gen):
    """Bowel loops in front of the spine, a bladder low in front of the sacrum (phantom samples only)."""
    rnd = lambda: float(torch.rand(1, generator=gen))
    spine = (tgt == 1) | (tgt == 2)
    ys, xs = spine.nonzero(as_tuple=True)
    if len(ys) < 50:
        return img, tgt
    flat = img[:, ::3, ::3].reshape(-1)
    scale = float(torch.quantile(flat, 0.98)) if flat.numel() else 1.0
    scale = max(scale, 1e-3)
    r0, r1 = int(ys.min()), int(ys.max())
    h, w = tgt.shape
    if rnd() < 0.75:
        for _ in range(1 + int(rnd() * 6)):
            r = int(r0 + rnd() * (r1 - r0 + 30))
            r = min(max(r, 0), h - 1)
            row_cols = xs[(ys - r).abs() <= 3]
            front = int(row_cols.min()) if len(row_cols) else int(xs.min())
            a = 7 + rnd() * 13
            b = a * (0.55 + 0.6 * rnd())
            cx = front - (2 + rnd() * 45) - a
            level = scale * (0.05 + 1.25 * rnd())
            img, tgt = paint_blob(img, tgt, gen, r + (rnd() * 2 - 1) * 10, cx, a, b, level)
    sac = (tgt == 2).nonzero(as_tuple=True)
    if rnd() < 0.35 and len(sac[0]):
        a = 20 + rnd() * 25
        b = 15 + rnd() * 20
        cy = float(sac[0].max()) - 10 + rnd() * 40
        cx = float(sac[1].min()) - (8 + rnd() * 40) - a
        level = scale * (0.9 + 0.6 * rnd()) if rnd() < 0.6 else scale * (0.03 + 0.2 * rnd())
        img, tgt = paint_blob(img, tgt, gen, cy, cx, a, b, level, rim_p=0.2)
    return img, tgt


def tilt_sacrum(img, tgt, gen, max_deg=12):
    """Random extra lumbosacral angle: rotates the region below the top of the sacrum about its top."""
    rnd = lambda: float(torch.rand(1, generator=gen))
    sy, sx = (tgt == 2).nonzero(as_tuple=True)
    if len(sy) < 30:
        return img, tgt
    py = float(sy.min())
    px = float(sx[sy <= sy.min() + 3].float().mean())
    h, w = tgt.shape
    ang = math.radians((rnd() * 2 - 1) * max_deg)
    ca, sa = math.cos(ang), math.sin(ang)
    # output pixel p -> input = pivot + R (p - pivot), normalised (align_corners=False)
    A = torch.tensor([[ca, -sa], [sa, ca]], dtype=torch.float32)
    sx_, sy_ = 2.0 / w, 2.0 / h
    # normalised coords: xn = (x + 0.5) * 2 / w - 1
    pn = torch.tensor([(px + 0.5) * sx_ - 1, (py + 0.5) * sy_ - 1])
    S = torch.diag(torch.tensor([sx_, sy_]))
    Si = torch.diag(torch.tensor([1 / sx_, 1 / sy_]))
    M = S @ A @ Si
    t = pn - M @ pn
    theta = torch.cat([M, t[:, None]], 1)[None]
    grid = F.affine_grid(theta, [1, 1, h, w], align_corners=False)
    rimg = F.grid_sample(img[None], grid, mode='bilinear', padding_mode='border', align_corners=False)[0]
    rtgt = F.grid_sample(tgt[None, None].float(), grid, mode='nearest', padding_mode='border', align_corners=False)[0, 0].long()
    rows = torch.arange(h, dtype=torch.float32)[:, None].expand(h, w)
    wgt = torch.sigmoid((rows - py - 1) / 2.0)
    img = img * (1 - wgt) + rimg * wgt
    tgt = torch.where(wgt > 0.5, rtgt, tgt)
    return img, tgt


def make_sample(st, gen, crop, synth_p=0.65, distract=True):
    """One augmented (image [3,crop,crop], target [crop,crop]) pair. Real studies keep their partial-label codes
    (1, REAL_NOT_BODY, REAL_IGNORE) in the target."""
    rnd = lambda: float(torch.rand(1, generator=gen))
    real = st['real']
    nz, h, w = st['target'].shape
    # pick a slice, preferring those that contain vertebral bodies
    has = (st['target'] == 1).flatten(1).any(1).nonzero().flatten().tolist()
    k = has[int(rnd() * len(has))] if has and rnd() < 0.85 else int(rnd() * nz)
    ks = [min(nz - 1, max(0, k + d)) for d in (-1, 0, 1)]
    if rnd() < 0.5:
        ks = ks[::-1]  # left/right order is arbitrary
    tgt = st['target'][k].long()
    if not real and (rnd() < synth_p or not st['images']):
        tis = st['tissue'][ks].long()  # [3,h,w]
        mu = torch.rand(N_TISSUES, generator=gen)
        mu[0] = torch.rand(1, generator=gen) * 0.08
        sd = torch.rand(N_TISSUES, generator=gen) * 0.07
        img = mu[tis] + sd[tis] * torch.randn(tis.shape, generator=gen)
        img = img.clamp(min=0)
    else:
        src = st['images'][int(rnd() * len(st['images']))]
        img = src[ks].clone()
        img = img - img.min()
    if not real and distract:
        img, tgt = add_distractors(img, tgt, gen)
        if rnd() < 0.25:
            img, tgt = tilt_sacrum(img, tgt, gen)
    # slice thickness: partial-volume mix of the neighbouring slices into each channel
    if rnd() < 0.5:
        a = rnd() * 0.35
        mixed = img.clone()
        mixed[1] = (1 - 2 * a) * img[1] + a * img[0] + a * img[2]
        mixed[0] = (1 - a) * img[0] + a * img[1]
        mixed[2] = (1 - a) * img[2] + a * img[1]
        img = mixed
    # pose / field of view / resolution: random affine, output crop x crop pixels
    ang = (rnd() * 2 - 1) * math.radians(20)
    sc = math.exp((rnd() * 2 - 1) * math.log(1.25))  # output pixel = sc input pixels
    cx = w / 2 + (rnd() * 2 - 1) * w * 0.2
    cy = h / 2 + (rnd() * 2 - 1) * h * 0.15
    # centre the crop on a random spine pixel most of the time (sacrum over-sampled: it is 1/4 of the body
    # class and far from the spine's centre)
    u = rnd()
    if real and u < 0.85:
        # real: body pixels, or the region just below the lowest labelled body (S1, sacrum, bladder) in 35 %
        ys, xs = (tgt == 1).nonzero(as_tuple=True)
        if len(xs) and u < 0.3:
            low = ys >= ys.max() - 8
            ys = ys[low] + int(10 + rnd() * 40)
            xs = xs[low]
        if len(xs):
            p = int(torch.randint(len(xs), (1,), generator=gen))
            cx = float(xs[p]) + (rnd() * 2 - 1) * crop * 0.2
            cy = float(ys[p]) + (rnd() * 2 - 1) * crop * 0.2
    elif not real and u < 0.85:
        cls = 2 if rnd() < 0.4 and bool((tgt == 2).any()) else 1
        ys, xs = (tgt == cls).nonzero(as_tuple=True)
        if len(xs):
            p = int(torch.randint(len(xs), (1,), generator=gen))
            cx = float(xs[p]) + (rnd() * 2 - 1) * crop * 0.2
            cy = float(ys[p]) + (rnd() * 2 - 1) * crop * 0.2
    ca, sa = math.cos(ang) * sc, math.sin(ang) * sc
    # output pixel (u,v) centred -> input pixel (x,y) = c + R*(u,v); convert to normalised coords (align_corners=False)
    theta = torch.tensor([[ca * crop / w, -sa * crop / w, (2 * cx) / w - 1],
                          [sa * crop / h, ca * crop / h, (2 * cy) / h - 1]], dtype=torch.float32)
    grid = F.affine_grid(theta[None], [1, 3, crop, crop], align_corners=False)
    img = F.grid_sample(img[None], grid, mode='bilinear', padding_mode='zeros', align_corners=False)[0]
    tgt = F.grid_sample(tgt[None, None].float(), grid, mode='nearest', padding_mode='zeros', align_corners=False)[0, 0].long()
    if real:
        tgt[tgt == 0] = REAL_NOT_BODY  # outside the image: never a body
    # resolution: down/up-sampling, blur
    if rnd() < 0.4:
        f = 1 + rnd() * 1.5
        small = F.interpolate(img[None], scale_factor=1 / f, mode='area' if f > 1 else 'bilinear')
        img = F.interpolate(small, size=(crop, crop), mode='bilinear', align_corners=False)[0]
    if rnd() < 0.5:
        img = gauss_blur(img, rnd() * 1.2)
    # bias field, gamma, noise
    if rnd() < 0.8:
        img = img * torch.exp(smooth_field(crop, crop, gen, 0.35))[None]
    m = float(img.max())
    if m > 0:
        img = img / m
        if rnd() < (0.7 if real else 0.25):
            img = monotone_remap(img, gen)
        if rnd() < 0.7:
            img = img.clamp(min=0) ** math.exp((rnd() * 2 - 1) * 0.35)
    if rnd() < 0.8:
        img = img + torch.randn(img.shape, generator=gen) * rnd() * 0.06
    img = normalise(img)
    # small global intensity jitter after normalisation
    img = img * (1 + (rnd() * 2 - 1) * 0.08) + (rnd() * 2 - 1) * 0.05
    return img, tgt


def batch(studies, gen, bs, crop, real=(), real_p=0.0, distract=True):
    """Batch of bs samples; each is a real study with probability real_p (when real studies are given)."""
    xs, ys, rs = [], [], []
    for _ in range(bs):
        is_real = bool(real) and float(torch.rand(1, generator=gen)) < real_p
        pool = real if is_real else studies
        st = pool[int(torch.randint(len(pool), (1,), generator=gen))]
        x, y = make_sample(st, gen, crop, distract=distract)
        xs.append(x)
        ys.append(y)
        rs.append(is_real)
    return torch.stack(xs), torch.stack(ys), torch.tensor(rs)


def dice_loss(logits, y):
    p = torch.softmax(logits, 1)
    oh = F.one_hot(y, N_CLASSES).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (p * oh).sum(dims)
    den = p.sum(dims) + oh.sum(dims)
    d = (2 * inter + 1) / (den + 1)
    return 1 - d[1:].mean()


def body_dice_loss(logits, y):
    """Soft Dice of the body class over labelled pixels of real samples (REAL_IGNORE excluded)."""
    p = torch.softmax(logits, 1)[:, 1]
    valid = (y != REAL_IGNORE).float()
    g = (y == 1).float()
    inter = (p * g * valid).sum()
    den = (p * valid).sum() + g.sum()
    return 1 - (2 * inter + 1) / (den + 1)


def mixed_loss(logits, y, is_real, cw, real_w=1.0):
    """Weighted CE (phantom: full labels; real: partial labels) over all pixels of the batch, normalised by the
    total weight, plus soft Dice (phantom: classes 1-4; real: body only)."""
    logp = F.log_softmax(logits, 1)
    ph = ~is_real
    num = logits.new_zeros(())
    den = logits.new_zeros(())
    if bool(ph.any()):
        yp = y[ph]
        lp = logp[ph]
        wp = cw[yp]
        num = num - (wp * lp.gather(1, yp[:, None])[:, 0]).sum()
        den = den + wp.sum()
    if bool(is_real.any()):
        yr = y[is_real]
        lr = logp[is_real]
        body = yr == 1
        sac = yr == 2  # sacrum pseudo-labels (scripts/segmentation/pseudo-sacrum.mjs)
        notb = yr == REAL_NOT_BODY
        # -log(1 - p_body) = -logsumexp over the other classes
        other = torch.logsumexp(torch.cat([lr[:, :1], lr[:, 2:]], 1), 1)
        num = num - real_w * (lr[:, 1][body].sum() * float(cw[1]) + lr[:, 2][sac].sum() * float(cw[2]) + other[notb].sum() * float(cw[0]))
        den = den + real_w * ((body.sum() * float(cw[1])) + sac.sum() * float(cw[2]) + notb.sum() * float(cw[0]))
    loss = num / den.clamp(min=1)
    if bool(ph.any()):
        loss = loss + dice_loss(logits[ph], y[ph])
    if bool(is_real.any()):
        loss = loss + body_dice_loss(logits[is_real], y[is_real])
    return loss


def conv_modules(model):
    """Conv2d modules of the UNet in execution order (= Conv node order of the exported graph)."""
    out = []
    for b in model.enc:
        out += [b.net[0], b.net[3]]
    for up, dec in zip(model.up, model.dec):
        out += [up, dec.net[0], dec.net[3]]
    out.append(model.head)
    return out


def init_from_onnx(model, path):
    """Initialises the UNet from an exported model (BatchNorm fused into the convs by the export): conv weights
    are copied, each BatchNorm becomes the identity plus the fused bias (running mean 0, var 1 - eps, weight 1).
    Use with frozen BatchNorm (eval-mode statistics) for fine-tuning."""
    import onnx
    from onnx import numpy_helper
    g = onnx.load(path).graph
    init = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    convs = [n for n in g.node if n.op_type == 'Conv']
    mods = conv_modules(model)
    assert len(convs) == len(mods), (len(convs), len(mods))
    bns = {}
    for b in list(model.enc) + list(model.dec):
        bns[id(b.net[0])] = b.net[1]
        bns[id(b.net[3])] = b.net[4]
    with torch.no_grad():
        for n, m in zip(convs, mods):
            w = torch.from_numpy(init[n.input[1]].copy())
            bias = torch.from_numpy(init[n.input[2]].copy()) if len(n.input) > 2 else torch.zeros(w.shape[0])
            assert tuple(w.shape) == tuple(m.weight.shape), (n.name, w.shape, m.weight.shape)
            m.weight.copy_(w)
            bn = bns.get(id(m))
            if bn is None:
                m.bias.copy_(bias)
            else:
                bn.weight.fill_(1.0)
                bn.bias.copy_(bias)
                bn.running_mean.zero_()
                bn.running_var.fill_(1.0 - bn.eps)


def freeze_bn(model):
    for mod in model.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.eval()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', required=True, help='export folder(s), comma-separated')
    ap.add_argument('--out', default='models/vertebrae-seg.onnx')
    ap.add_argument('--iters', type=int, default=2400)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--crop', type=int, default=160)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--seed', type=int, default=1234)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--fixture', default='test/fixtures/segmentation/equivalence.bin')
    ap.add_argument('--checkpoint', default='/tmp/vertebrae-seg.pt')
    ap.add_argument('--export-only', action='store_true')
    ap.add_argument('--real', default='', help='real export folder(s) of export-real.mjs, comma-separated')
    ap.add_argument('--real-p', type=float, default=0.35, help='probability that a sample is a real case')
    ap.add_argument('--no-distractors', action='store_true', help='no bowel/bladder/sacral-tilt augmentation')
    ap.add_argument('--init-onnx', default='', help='fine-tune: start from this exported model (BatchNorm frozen)')
    ap.add_argument('--info', default='', help='also write the TRAINING-INFO line to this file')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    index, studies = load_data(args.data)
    train = [s for s, meta in zip(studies, index['studies']) if meta['split'] == 'train']
    real = []
    if args.real:
        _, rstudies = load_data(args.real)
        real = [s for s in rstudies if s['real']]
    print(f'studies: {len(studies)} train: {len(train)} real: {len(real)} ({", ".join(s["id"] for s in real)}) real-p {args.real_p if real else 0}', flush=True)
    model = UNet()
    if args.init_onnx:
        init_from_onnx(model, args.init_onnx)
        print(f'initialised from {args.init_onnx} (BatchNorm frozen)', flush=True)
    print('parameters:', sum(p.numel() for p in model.parameters()), flush=True)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    if not args.export_only:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.iters, pct_start=0.1)
        cw = torch.tensor([0.5, 1.0, 1.0, 1.0, 1.0])
        model.train()
        if args.init_onnx:
            freeze_bn(model)
        run = 0.0
        for it in range(1, args.iters + 1):
            x, y, is_real = batch(train, gen, args.batch, args.crop, real, args.real_p, not args.no_distractors)
            logits = model(x)
            loss = mixed_loss(logits, y, is_real, cw)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            run = 0.98 * run + 0.02 * float(loss) if it > 1 else float(loss)
            if it % 50 == 0 or it == 1:
                el = time.time() - t0
                print(f'iter {it}/{args.iters} loss {run:.4f} elapsed {el:.0f}s eta {el / it * (args.iters - it):.0f}s', flush=True)
            if it % 500 == 0:
                torch.save(model.state_dict(), args.checkpoint)
        torch.save(model.state_dict(), args.checkpoint)
    else:
        model.load_state_dict(torch.load(args.checkpoint))
    train_s = time.time() - t0
    model.eval()
    net = WithSoftmax(model).eval()
    dummy = torch.zeros(2, 3, 64, 96)
    torch.onnx.export(net, dummy, args.out, opset_version=13, input_names=['image'], output_names=['probs'],
                      dynamic_axes={'image': {0: 'n', 2: 'h', 3: 'w'}, 'probs': {0: 'n', 2: 'h', 3: 'w'}},
                      do_constant_folding=True)
    import onnx
    onnx.checker.check_model(onnx.load(args.out))
    # Equivalence fixture: a real (phantom, held-out split if any) slice crop through the torch model.
    meta = next((m for m in index['studies'] if m['split'] != 'train'), index['studies'][0])
    st = studies[index['studies'].index(meta)]
    nz, h, w = st['target'].shape
    k = nz // 2
    img = st['images'][0][[max(0, k - 1), k, min(nz - 1, k + 1)]]
    ys, xs = (st['target'][k] == 1).nonzero(as_tuple=True)
    cy = int(ys.float().mean()) if len(ys) else h // 2
    cx = int(xs.float().mean()) if len(xs) else w // 2
    ch, cw_ = 96, 80
    y0 = max(0, min(h - ch, cy - ch // 2))
    x0 = max(0, min(w - cw_, cx - cw_ // 2))
    x = img[:, y0:y0 + ch, x0:x0 + cw_][None].contiguous()
    with torch.no_grad():
        y = net(x)
    os.makedirs(os.path.dirname(args.fixture), exist_ok=True)
    header = json.dumps({'input': list(x.shape), 'output': list(y.shape)}).encode()
    with open(args.fixture, 'wb') as f:
        f.write(np.uint32(len(header)).tobytes())
        f.write(header)
        f.write(x.numpy().astype('<f4').tobytes())
        f.write(y.numpy().astype('<f4').tobytes())
    info = {'train_seconds': round(train_s, 1), 'iters': args.iters, 'batch': args.batch, 'crop': args.crop,
            'seed': args.seed, 'threads': args.threads, 'parameters': sum(p.numel() for p in model.parameters()),
            'onnx_bytes': os.path.getsize(args.out), 'torch': torch.__version__,
            'init_onnx': os.path.basename(args.init_onnx) if args.init_onnx else None, 'lr': args.lr,
            'real': [s['id'] for s in real], 'real_p': args.real_p if real else 0, 'distractors': not args.no_distractors}
    print('TRAINING-INFO ' + json.dumps(info), flush=True)
    if args.info:
        with open(args.info, 'w') as f:
            f.write('TRAINING-INFO ' + json.dumps(info) + '\n')


if __name__ == '__main__':
    main()

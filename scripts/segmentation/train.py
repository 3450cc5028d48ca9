#!/usr/bin/python3
"""Offline training of the OsteoScreen vertebral-body segmenter (models/vertebrae-seg.onnx).

Run with Debian's python (python3-torch 1.13 CPU, python3-onnx); the full command sequence is in
models/vertebrae-seg.md:
    /usr/bin/python3 scripts/segmentation/train.py --data /tmp/segtrain,/tmp/segtrain2 --out models/vertebrae-seg.onnx \
        --iters 2000 --crop 144 --fixture test/fixtures/segmentation/equivalence.bin

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
    if True:
        nz, h, w = s['nz'], s['height'], s['width']
        rd = lambda name, dt: np.fromfile(os.path.join(folder, name), dtype=dt).reshape(nz, h, w)
        st = {'id': s['id'], 'tissue': torch.from_numpy(rd(s['tissue'], np.uint8)),
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


def make_sample(st, gen, crop, synth_p=0.65):
    """One augmented (image [3,crop,crop], target [crop,crop]) pair."""
    rnd = lambda: float(torch.rand(1, generator=gen))
    nz, h, w = st['target'].shape
    # pick a slice, preferring those that contain vertebral bodies
    has = (st['target'] == 1).flatten(1).any(1).nonzero().flatten().tolist()
    k = has[int(rnd() * len(has))] if has and rnd() < 0.85 else int(rnd() * nz)
    ks = [min(nz - 1, max(0, k + d)) for d in (-1, 0, 1)]
    if rnd() < 0.5:
        ks = ks[::-1]  # left/right order is arbitrary
    tis = st['tissue'][ks].long()  # [3,h,w]
    tgt = st['target'][k].long()
    if rnd() < synth_p or not st['images']:
        mu = torch.rand(N_TISSUES, generator=gen)
        mu[0] = torch.rand(1, generator=gen) * 0.08
        sd = torch.rand(N_TISSUES, generator=gen) * 0.07
        img = mu[tis] + sd[tis] * torch.randn(tis.shape, generator=gen)
        img = img.clamp(min=0)
    else:
        src = st['images'][int(rnd() * len(st['images']))]
        img = src[ks].clone()
        img = img - img.min()
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
    if rnd() < 0.85:
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
        if rnd() < 0.7:
            img = img.clamp(min=0) ** math.exp((rnd() * 2 - 1) * 0.35)
    if rnd() < 0.8:
        img = img + torch.randn(img.shape, generator=gen) * rnd() * 0.06
    img = normalise(img)
    # small global intensity jitter after normalisation
    img = img * (1 + (rnd() * 2 - 1) * 0.08) + (rnd() * 2 - 1) * 0.05
    return img, tgt


def batch(studies, gen, bs, crop):
    xs, ys = [], []
    for _ in range(bs):
        st = studies[int(torch.randint(len(studies), (1,), generator=gen))]
        x, y = make_sample(st, gen, crop)
        xs.append(x)
        ys.append(y)
    return torch.stack(xs), torch.stack(ys)


def dice_loss(logits, y):
    p = torch.softmax(logits, 1)
    oh = F.one_hot(y, N_CLASSES).permute(0, 3, 1, 2).float()
    dims = (0, 2, 3)
    inter = (p * oh).sum(dims)
    den = p.sum(dims) + oh.sum(dims)
    d = (2 * inter + 1) / (den + 1)
    return 1 - d[1:].mean()


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
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    set_seed(args.seed)
    index, studies = load_data(args.data)
    train = [s for s, meta in zip(studies, index['studies']) if meta['split'] == 'train']
    print(f'studies: {len(studies)} train: {len(train)}', flush=True)
    model = UNet()
    print('parameters:', sum(p.numel() for p in model.parameters()), flush=True)
    gen = torch.Generator().manual_seed(args.seed)
    t0 = time.time()
    if not args.export_only:
        opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=args.iters, pct_start=0.1)
        cw = torch.tensor([0.5, 1.0, 1.0, 1.0, 1.0])
        model.train()
        run = 0.0
        for it in range(1, args.iters + 1):
            x, y = batch(train, gen, args.batch, args.crop)
            logits = model(x)
            loss = F.cross_entropy(logits, y, weight=cw) + dice_loss(logits, y)
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
            'onnx_bytes': os.path.getsize(args.out), 'torch': torch.__version__}
    print('TRAINING-INFO ' + json.dumps(info), flush=True)


if __name__ == '__main__':
    main()

// gradgraph WebAssembly SIMD reductions (AssemblyScript): sum and max over the middle axis of a
// row-major [outer, n, inner] view, which covers any single axis and any contiguous group of axes.
// `out` has outer·inner elements.
//
// sum adds into `out` (the caller passes its current values, normally zeros), like the TypeScript
// kernel: with inner > 1 it accumulates element by element in k order in the array's own dtype
// (identical to the TypeScript result); with inner = 1 it sums each row in f64 (four f64x2
// accumulators, so a different association than TypeScript's sequential double sum) and adds the
// row sum to out once. max overwrites `out` (−Infinity for n = 0); NaN propagates; of −0 and +0
// it may return either (the TypeScript kernel keeps whichever comes first; they compare equal).

// @ts-ignore: decorator
@inline function hsum64(a: v128): f64 {
  return f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
}

/** f32 sum of the middle axis of [outer, n, inner] into out (outer·inner), accumulating into out's values. */
export function sum_f32(outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  if (inner == 1) {
    const n8 = n & ~7;
    for (let o = 0; o < outer; o++) {
      const px = x + ((<usize>(o * n)) << 2);
      let s0 = f64x2.splat(0);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      for (let k = 0; k < n8; k += 8) {
        const a = v128.load(px + ((<usize>k) << 2));
        const b = v128.load(px + ((<usize>k) << 2), 16);
        s0 = f64x2.add(s0, f64x2.promote_low_f32x4(a));
        s1 = f64x2.add(s1, f64x2.promote_low_f32x4(i32x4.shuffle(a, a, 2, 3, 0, 1)));
        s2 = f64x2.add(s2, f64x2.promote_low_f32x4(b));
        s3 = f64x2.add(s3, f64x2.promote_low_f32x4(i32x4.shuffle(b, b, 2, 3, 0, 1)));
      }
      let s = hsum64(f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3)));
      for (let k = n8; k < n; k++) s += <f64>load<f32>(px + ((<usize>k) << 2));
      const po = out + ((<usize>o) << 2);
      store<f32>(po, <f32>(<f64>load<f32>(po) + s));
    }
    return;
  }
  const i4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const po = out + ((<usize>(o * inner)) << 2);
    for (let k = 0; k < n; k++) {
      const px = x + ((<usize>((o * n + k) * inner)) << 2);
      for (let j = 0; j < i4; j += 4) {
        const q = (<usize>j) << 2;
        v128.store(po + q, f32x4.add(v128.load(po + q), v128.load(px + q)));
      }
      for (let j = i4; j < inner; j++) {
        const q = (<usize>j) << 2;
        store<f32>(po + q, load<f32>(po + q) + load<f32>(px + q));
      }
    }
  }
}

/** f64 sum of the middle axis (as {@link sum_f32}). */
export function sum_f64(outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  if (inner == 1) {
    const n8 = n & ~7;
    for (let o = 0; o < outer; o++) {
      const px = x + ((<usize>(o * n)) << 3);
      let s0 = f64x2.splat(0);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      for (let k = 0; k < n8; k += 8) {
        const p = px + ((<usize>k) << 3);
        s0 = f64x2.add(s0, v128.load(p));
        s1 = f64x2.add(s1, v128.load(p, 16));
        s2 = f64x2.add(s2, v128.load(p, 32));
        s3 = f64x2.add(s3, v128.load(p, 48));
      }
      let s = hsum64(f64x2.add(f64x2.add(s0, s1), f64x2.add(s2, s3)));
      for (let k = n8; k < n; k++) s += load<f64>(px + ((<usize>k) << 3));
      const po = out + ((<usize>o) << 3);
      store<f64>(po, load<f64>(po) + s);
    }
    return;
  }
  const i2 = inner & ~1;
  for (let o = 0; o < outer; o++) {
    const po = out + ((<usize>(o * inner)) << 3);
    for (let k = 0; k < n; k++) {
      const px = x + ((<usize>((o * n + k) * inner)) << 3);
      for (let j = 0; j < i2; j += 2) {
        const q = (<usize>j) << 3;
        v128.store(po + q, f64x2.add(v128.load(po + q), v128.load(px + q)));
      }
      if (i2 < inner) {
        const q = (<usize>i2) << 3;
        store<f64>(po + q, load<f64>(po + q) + load<f64>(px + q));
      }
    }
  }
}

// max: pmax (one instruction; the IEEE `max` with its NaN and signed-zero handling costs several
// in V8 and ran slower than the JavaScript loop) plus a NaN flag per lane, applied at the end.

/** f32 max of the middle axis of [outer, n, inner] into out (outer·inner), overwriting it. */
export function max_f32(outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  const ninf = f32x4.splat(-Infinity);
  const nan = f32x4.splat(NaN);
  if (inner == 1) {
    const n8 = n & ~7;
    for (let o = 0; o < outer; o++) {
      const px = x + ((<usize>(o * n)) << 2);
      let m0 = ninf;
      let m1 = ninf;
      let bad = v128.splat<i32>(0);
      for (let k = 0; k < n8; k += 8) {
        const a = v128.load(px + ((<usize>k) << 2));
        const b = v128.load(px + ((<usize>k) << 2), 16);
        m0 = f32x4.pmax(m0, a);
        m1 = f32x4.pmax(m1, b);
        bad = v128.or(bad, v128.or(f32x4.ne(a, a), f32x4.ne(b, b)));
      }
      for (let k = n8; k < n; k++) {
        const a = v128.load32_splat(px + ((<usize>k) << 2));
        m0 = f32x4.pmax(m0, a);
        bad = v128.or(bad, f32x4.ne(a, a));
      }
      let m = f32x4.pmax(m0, m1);
      m = f32x4.pmax(m, i32x4.shuffle(m, m, 2, 3, 0, 1));
      m = f32x4.pmax(m, i32x4.shuffle(m, m, 1, 0, 3, 2));
      const r = v128.any_true(bad) ? nan : m;
      store<f32>(out + ((<usize>o) << 2), f32x4.extract_lane(r, 0));
    }
    return;
  }
  const i4 = inner & ~3;
  for (let o = 0; o < outer; o++) {
    const po = out + ((<usize>(o * inner)) << 2);
    for (let j = 0; j < i4; j += 4) v128.store(po + ((<usize>j) << 2), ninf);
    for (let j = i4; j < inner; j++) store<f32>(po + ((<usize>j) << 2), -Infinity);
    for (let k = 0; k < n; k++) {
      const px = x + ((<usize>((o * n + k) * inner)) << 2);
      for (let j = 0; j < i4; j += 4) {
        const q = (<usize>j) << 2;
        v128.store(po + q, f32x4.max(v128.load(po + q), v128.load(px + q)));
      }
      for (let j = i4; j < inner; j++) {
        const q = (<usize>j) << 2;
        const v = f32x4.max(v128.load32_splat(po + q), v128.load32_splat(px + q));
        store<f32>(po + q, f32x4.extract_lane(v, 0));
      }
    }
  }
}

/** f64 max of the middle axis (as {@link max_f32}). */
export function max_f64(outer: i32, n: i32, inner: i32, x: usize, out: usize): void {
  const ninf = f64x2.splat(-Infinity);
  const nan = f64x2.splat(NaN);
  if (inner == 1) {
    const n4 = n & ~3;
    for (let o = 0; o < outer; o++) {
      const px = x + ((<usize>(o * n)) << 3);
      let m0 = ninf;
      let m1 = ninf;
      let bad = v128.splat<i32>(0);
      for (let k = 0; k < n4; k += 4) {
        const a = v128.load(px + ((<usize>k) << 3));
        const b = v128.load(px + ((<usize>k) << 3), 16);
        m0 = f64x2.pmax(m0, a);
        m1 = f64x2.pmax(m1, b);
        bad = v128.or(bad, v128.or(f64x2.ne(a, a), f64x2.ne(b, b)));
      }
      for (let k = n4; k < n; k++) {
        const a = v128.load64_splat(px + ((<usize>k) << 3));
        m0 = f64x2.pmax(m0, a);
        bad = v128.or(bad, f64x2.ne(a, a));
      }
      let m = f64x2.pmax(m0, m1);
      m = f64x2.pmax(m, i64x2.shuffle(m, m, 1, 0));
      const r = v128.any_true(bad) ? nan : m;
      store<f64>(out + ((<usize>o) << 3), f64x2.extract_lane(r, 0));
    }
    return;
  }
  const i2 = inner & ~1;
  for (let o = 0; o < outer; o++) {
    const po = out + ((<usize>(o * inner)) << 3);
    for (let j = 0; j < inner; j++) store<f64>(po + ((<usize>j) << 3), -Infinity);
    for (let k = 0; k < n; k++) {
      const px = x + ((<usize>((o * n + k) * inner)) << 3);
      for (let j = 0; j < i2; j += 2) {
        const q = (<usize>j) << 3;
        v128.store(po + q, f64x2.max(v128.load(po + q), v128.load(px + q)));
      }
      if (i2 < inner) {
        const q = (<usize>i2) << 3;
        const v = f64x2.max(v128.load64_splat(po + q), v128.load64_splat(px + q));
        store<f64>(po + q, f64x2.extract_lane(v, 0));
      }
    }
  }
}

;; Soft-WPMI / WPMI inner loops, vectorised with 128-bit SIMD (f32x4). Compiled to
;; pmi-kernel.wasm.gen.ts by scripts/build-wasm.mjs. The memory is imported (and may be shared
;; between workers), so one block of probabilities serves every worker.
;;
;; Numerics: exp and log are Cephes' single-precision polynomials (max error about 1 ulp in
;; float32); softmax sums and the per-neuron accumulators are float64.
(module
  (import "env" "memory" (memory 1 65536 shared))

  ;; e^x for each lane; x is clamped to [-88, 88] (e^-88 underflows to 0 in the result).
  (func $exp4 (param $x v128) (result v128)
    (local $fx v128) (local $z v128) (local $y v128)
    (local.set $x (f32x4.min (f32x4.max (local.get $x) (f32x4.splat (f32.const -88.0))) (f32x4.splat (f32.const 88.0))))
    (local.set $fx (f32x4.floor (f32x4.add (f32x4.mul (local.get $x) (f32x4.splat (f32.const 1.44269504088896341))) (f32x4.splat (f32.const 0.5)))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (f32x4.splat (f32.const 0.693359375)))))
    (local.set $x (f32x4.sub (local.get $x) (f32x4.mul (local.get $fx) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $z (f32x4.mul (local.get $x) (local.get $x)))
    (local.set $y (f32x4.splat (f32.const 1.9875691500e-4)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 1.3981999507e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 8.3334519073e-3))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 4.1665795894e-2))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 1.6666665459e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $x)) (f32x4.splat (f32.const 5.0000001201e-1))))
    (local.set $y (f32x4.add (f32x4.add (f32x4.mul (local.get $y) (local.get $z)) (local.get $x)) (f32x4.splat (f32.const 1.0))))
    ;; multiply by 2^fx through the exponent bits (fx >= -127: -127 gives 0)
    (f32x4.mul (local.get $y)
      (i32x4.shl (i32x4.add (i32x4.trunc_sat_f32x4_s (local.get $fx)) (i32x4.splat (i32.const 127))) (i32.const 23)))
  )

  ;; ln(x) for each lane; x must be a positive normal number.
  (func $log4 (param $x v128) (result v128)
    (local $e v128) (local $m v128) (local $mask v128) (local $f v128) (local $z v128) (local $y v128) (local $fe v128)
    (local.set $e (i32x4.sub (i32x4.shr_u (local.get $x) (i32.const 23)) (i32x4.splat (i32.const 127))))
    (local.set $m (v128.or (v128.and (local.get $x) (i32x4.splat (i32.const 0x007fffff))) (i32x4.splat (i32.const 0x3f800000))))
    (local.set $mask (f32x4.gt (local.get $m) (f32x4.splat (f32.const 1.41421356237))))
    (local.set $m (v128.bitselect (f32x4.mul (local.get $m) (f32x4.splat (f32.const 0.5))) (local.get $m) (local.get $mask)))
    (local.set $e (i32x4.sub (local.get $e) (local.get $mask)))
    (local.set $f (f32x4.sub (local.get $m) (f32x4.splat (f32.const 1.0))))
    (local.set $z (f32x4.mul (local.get $f) (local.get $f)))
    (local.set $y (f32x4.splat (f32.const 7.0376836292e-2)))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.1514610310e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 1.1676998740e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.2420140846e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 1.4249322787e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -1.6668057665e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 2.0000714765e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const -2.4999993993e-1))))
    (local.set $y (f32x4.add (f32x4.mul (local.get $y) (local.get $f)) (f32x4.splat (f32.const 3.3333331174e-1))))
    (local.set $y (f32x4.mul (f32x4.mul (local.get $y) (local.get $f)) (local.get $z)))
    (local.set $fe (f32x4.convert_i32x4_s (local.get $e)))
    (local.set $y (f32x4.add (local.get $y) (f32x4.mul (local.get $fe) (f32x4.splat (f32.const -2.12194440e-4)))))
    (local.set $y (f32x4.sub (local.get $y) (f32x4.mul (local.get $z) (f32x4.splat (f32.const 0.5)))))
    (f32x4.add (f32x4.add (local.get $f) (local.get $y)) (f32x4.mul (local.get $fe) (f32x4.splat (f32.const 0.693359375))))
  )

  ;; Row-wise softmax(scale * x), in place, for `rows` rows of `stride` floats (a multiple of 4)
  ;; starting at `ptr`. Writes per row (max, sum) as two f64 at `out`: log Z = max + ln(sum).
  (func (export "softmax_rows") (param $ptr i32) (param $rows i32) (param $stride i32) (param $scale f32) (param $out i32)
    (local $row i32) (local $p i32) (local $end i32) (local $vscale v128) (local $vmax v128) (local $vm v128)
    (local $e v128) (local $s0 v128) (local $s1 v128) (local $max f32) (local $sum f64) (local $inv v128)
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (block $done
      (loop $rows_loop
        (br_if $done (i32.ge_u (local.get $row) (local.get $rows)))
        (local.set $p (i32.add (local.get $ptr) (i32.mul (i32.mul (local.get $row) (local.get $stride)) (i32.const 4))))
        (local.set $end (i32.add (local.get $p) (i32.mul (local.get $stride) (i32.const 4))))
        ;; max of scale * x
        (local.set $vmax (f32x4.splat (f32.const -inf)))
        (local.set $e (local.get $vmax))
        (block $b1 (loop $l1
          (br_if $b1 (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $vmax (f32x4.max (local.get $vmax) (f32x4.mul (v128.load (local.get $p)) (local.get $vscale))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $l1)))
        (local.set $max (f32.max (f32.max (f32x4.extract_lane 0 (local.get $vmax)) (f32x4.extract_lane 1 (local.get $vmax)))
                                 (f32.max (f32x4.extract_lane 2 (local.get $vmax)) (f32x4.extract_lane 3 (local.get $vmax)))))
        (local.set $vm (f32x4.splat (local.get $max)))
        ;; exp and float64 sum
        (local.set $s0 (f64x2.splat (f64.const 0)))
        (local.set $s1 (f64x2.splat (f64.const 0)))
        (local.set $p (i32.sub (local.get $end) (i32.mul (local.get $stride) (i32.const 4))))
        (block $b2 (loop $l2
          (br_if $b2 (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $e (call $exp4 (f32x4.sub (f32x4.mul (v128.load (local.get $p)) (local.get $vscale)) (local.get $vm))))
          (v128.store (local.get $p) (local.get $e))
          (local.set $s0 (f64x2.add (local.get $s0) (f64x2.promote_low_f32x4 (local.get $e))))
          (local.set $s1 (f64x2.add (local.get $s1) (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $e) (local.get $e)))))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $l2)))
        (local.set $s0 (f64x2.add (local.get $s0) (local.get $s1)))
        (local.set $sum (f64.add (f64x2.extract_lane 0 (local.get $s0)) (f64x2.extract_lane 1 (local.get $s0))))
        (f64.store (i32.add (local.get $out) (i32.mul (local.get $row) (i32.const 16))) (f64.promote_f32 (local.get $max)))
        (f64.store (i32.add (local.get $out) (i32.add (i32.mul (local.get $row) (i32.const 16)) (i32.const 8))) (local.get $sum))
        ;; normalise
        (local.set $inv (f32x4.splat (f32.demote_f64 (f64.div (f64.const 1) (local.get $sum)))))
        (local.set $p (i32.sub (local.get $end) (i32.mul (local.get $stride) (i32.const 4))))
        (block $b3 (loop $l3
          (br_if $b3 (i32.ge_u (local.get $p) (local.get $end)))
          (v128.store (local.get $p) (f32x4.mul (v128.load (local.get $p)) (local.get $inv)))
          (local.set $p (i32.add (local.get $p) (i32.const 16)))
          (br $l3)))
        (local.set $row (i32.add (local.get $row) (i32.const 1)))
        (br $rows_loop)))
  )

  ;; acc[m] += ln(c + w * p[m]) for m < count (a multiple of 4); p is f32 at `probs`, acc f64 at `acc`.
  (func (export "log_accumulate") (param $probs i32) (param $acc i32) (param $count i32) (param $c f32) (param $w f32)
    (local $end i32) (local $vc v128) (local $vw v128) (local $l v128)
    (local.set $vc (f32x4.splat (local.get $c)))
    (local.set $vw (f32x4.splat (local.get $w)))
    (local.set $end (i32.add (local.get $probs) (i32.mul (local.get $count) (i32.const 4))))
    (block $b (loop $l
      (br_if $b (i32.ge_u (local.get $probs) (local.get $end)))
      (local.set $l (call $log4 (f32x4.add (local.get $vc) (f32x4.mul (local.get $vw) (v128.load (local.get $probs))))))
      (v128.store (local.get $acc) (f64x2.add (v128.load (local.get $acc)) (f64x2.promote_low_f32x4 (local.get $l))))
      (v128.store offset=16 (local.get $acc)
        (f64x2.add (v128.load offset=16 (local.get $acc))
          (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $l) (local.get $l)))))
      (local.set $probs (i32.add (local.get $probs) (i32.const 16)))
      (local.set $acc (i32.add (local.get $acc) (i32.const 32)))
      (br $l)))
  )
)

;; Interleaved 8-bit RGB -> planar float32 RGB, each value / 255: a model's input from decoded
;; pixels, 16 pixels per step with WebAssembly SIMD (`planar`); and a camera frame k times the
;; letterbox's size shrunk to it as Ultralytics' letterbox does (`shrink`, linear-shrink.ts). The
;; source of planar.wasm (rebuild with
;; `npm run wasm:build`; server/inference/pixels.test.ts fails when the two differ). pixels.ts owns
;; the memory and checks every address before calling in; an address out of the memory traps.
;;
;; f32x4.div by 255, not a multiply by 1/255: the division rounds exactly as i / 255 rounded to
;; float32 does, so the tensor holds the same floats the model was always given (a multiply by
;; the reciprocal differs in the last bit for 126 of the 256 values).
(module
  (import "env" "memory" (memory 1))

  ;; src: byte address of the first pixel (rows of w pixels, packed); dst: byte address of the red
  ;; plane's first float; stride: bytes from one destination row to the next; plane: bytes from
  ;; one plane to the next (green at dst + plane, blue at dst + 2 plane).
  (func (export "planar") (param $src i32) (param $w i32) (param $h i32) (param $dst i32) (param $stride i32) (param $plane i32)
    (local $y i32) (local $s i32) (local $d i32) (local $g i32) (local $b i32)
    (local $rowEnd i32) (local $vecEnd i32)
    (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $k v128)
    (local.set $k (f32x4.splat (f32.const 255)))
    (local.set $s (local.get $src))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $y) (local.get $h)))
        (local.set $d (i32.add (local.get $dst) (i32.mul (local.get $y) (local.get $stride))))
        (local.set $rowEnd (i32.add (local.get $d) (i32.shl (local.get $w) (i32.const 2))))
        (local.set $vecEnd (i32.add (local.get $d) (i32.shl (i32.and (local.get $w) (i32.const -16)) (i32.const 2))))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $d) (local.get $vecEnd)))
            ;; 16 pixels: 48 bytes r g b r g b ...
            (local.set $v0 (v128.load (local.get $s)))
            (local.set $v1 (v128.load offset=16 (local.get $s)))
            (local.set $v2 (v128.load offset=32 (local.get $s)))
            (local.set $g (i32.add (local.get $d) (local.get $plane)))
            (local.set $b (i32.add (local.get $g) (local.get $plane)))
            ;; red: bytes 0 3 ... 45, gathered from v0 and v1 first, then the last five from v2
            (call $store16 (local.get $d) (local.get $k)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 17 20 23 26 29
                (i8x16.shuffle 0 3 6 9 12 15 18 21 24 27 30 0 0 0 0 0 (local.get $v0) (local.get $v1))
                (local.get $v2)))
            ;; green: bytes 1 4 ... 46
            (call $store16 (local.get $g) (local.get $k)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 18 21 24 27 30
                (i8x16.shuffle 1 4 7 10 13 16 19 22 25 28 31 0 0 0 0 0 (local.get $v0) (local.get $v1))
                (local.get $v2)))
            ;; blue: bytes 2 5 ... 47 (ten from v0 and v1, six from v2)
            (call $store16 (local.get $b) (local.get $k)
              (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 16 19 22 25 28 31
                (i8x16.shuffle 2 5 8 11 14 17 20 23 26 29 0 0 0 0 0 0 (local.get $v0) (local.get $v1))
                (local.get $v2)))
            (local.set $s (i32.add (local.get $s) (i32.const 48)))
            (local.set $d (i32.add (local.get $d) (i32.const 64)))
            (br $vec)))
        ;; the row's last (w mod 16) pixels, one at a time
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $d) (local.get $rowEnd)))
            (local.set $g (i32.add (local.get $d) (local.get $plane)))
            (local.set $b (i32.add (local.get $g) (local.get $plane)))
            (f32.store (local.get $d) (f32.div (f32.convert_i32_u (i32.load8_u (local.get $s))) (f32.const 255)))
            (f32.store (local.get $g) (f32.div (f32.convert_i32_u (i32.load8_u offset=1 (local.get $s))) (f32.const 255)))
            (f32.store (local.get $b) (f32.div (f32.convert_i32_u (i32.load8_u offset=2 (local.get $s))) (f32.const 255)))
            (local.set $s (i32.add (local.get $s) (i32.const 3)))
            (local.set $d (i32.add (local.get $d) (i32.const 4)))
            (br $tail)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $rows))))

  ;; 16 bytes -> 16 floats / 255 at address $at
  (func $store16 (param $at i32) (param $k v128) (param $bytes v128)
    (local $half v128)
    (local.set $half (i16x8.extend_low_i8x16_u (local.get $bytes)))
    (v128.store (local.get $at) (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $k)))
    (v128.store offset=16 (local.get $at) (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $k)))
    (local.set $half (i16x8.extend_high_i8x16_u (local.get $bytes)))
    (v128.store offset=32 (local.get $at) (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_low_i16x8_u (local.get $half))) (local.get $k)))
    (v128.store offset=48 (local.get $at) (f32x4.div (f32x4.convert_i32x4_u (i32x4.extend_high_i16x8_u (local.get $half))) (local.get $k))))


  ;; cv2.resize with INTER_LINEAR (Ultralytics' letterbox) by a whole factor k, from a w x (k oh)
  ;; RGB image at $src (rows of 3w bytes, packed) to ow x oh at $dst (ow = w / k): output pixel x
  ;; samples source x k + (k - 1) / 2, which for an odd k is one pixel and for an even k lies halfway
  ;; between two, so each output pixel is the mean of the c x c pixels (c = 1 or 2) at offset
  ;; $o = (k - c) / 2 of its k x k block, rounded half up: (sum + c*c/2) / (c*c), the division as a
  ;; multiply by ceil(2^32 / (c*c)) and a shift. The c rows are summed first, 16 bytes per step
  ;; into $acc (3w u16s), then each pixel's c columns. The row loop reads up to 15 bytes past a row
  ;; and writes up to 30 past the sums: the caller leaves that room (linear-shrink.ts).
  (func (export "shrink") (param $src i32) (param $w i32) (param $k i32) (param $c i32) (param $o i32) (param $ow i32) (param $oh i32) (param $acc i32) (param $dst i32)
    (local $rowBytes i32) (local $oy i32) (local $r i32) (local $s i32) (local $a i32) (local $end i32)
    (local $ox i32) (local $j i32) (local $d i32) (local $half i32) (local $m i64) (local $step i32)
    (local $s0 i32) (local $s1 i32) (local $s2 i32) (local $v v128)
    (local.set $rowBytes (i32.mul (local.get $w) (i32.const 3)))
    (local.set $half (i32.shr_u (i32.mul (local.get $c) (local.get $c)) (i32.const 1)))
    ;; ceil(2^32 / (c*c))
    (local.set $m (i64.div_u
      (i64.add (i64.const 0x100000000) (i64.extend_i32_u (i32.sub (i32.mul (local.get $c) (local.get $c)) (i32.const 1))))
      (i64.extend_i32_u (i32.mul (local.get $c) (local.get $c)))))
    ;; end of the sums, the row's bytes rounded up to 16, two bytes each
    (local.set $end (i32.add (local.get $acc)
      (i32.shl (i32.and (i32.add (local.get $rowBytes) (i32.const 15)) (i32.const -16)) (i32.const 1))))
    ;; bytes of sums from one output pixel's window to the next: k pixels of 3 u16s
    (local.set $step (i32.mul (local.get $k) (i32.const 6)))
    (local.set $d (local.get $dst))
    (block $done
      (loop $rows
        (br_if $done (i32.ge_u (local.get $oy) (local.get $oh)))
        ;; the window's c rows, summed per byte into $acc
        (local.set $r (i32.const 0))
        (local.set $s (i32.add (local.get $src)
          (i32.mul (i32.add (i32.mul (local.get $oy) (local.get $k)) (local.get $o)) (local.get $rowBytes))))
        (block $summed
          (loop $windowRows
            (br_if $summed (i32.ge_u (local.get $r) (local.get $c)))
            (local.set $a (local.get $acc))
            (local.set $j (local.get $s))
            (block $rowDone
              (loop $vec
                (br_if $rowDone (i32.ge_u (local.get $a) (local.get $end)))
                (local.set $v (v128.load (local.get $j)))
                (if (i32.eqz (local.get $r))
                  (then
                    (v128.store (local.get $a) (i16x8.extend_low_i8x16_u (local.get $v)))
                    (v128.store offset=16 (local.get $a) (i16x8.extend_high_i8x16_u (local.get $v))))
                  (else
                    (v128.store (local.get $a) (i16x8.add (v128.load (local.get $a)) (i16x8.extend_low_i8x16_u (local.get $v))))
                    (v128.store offset=16 (local.get $a) (i16x8.add (v128.load offset=16 (local.get $a)) (i16x8.extend_high_i8x16_u (local.get $v))))))
                (local.set $j (i32.add (local.get $j) (i32.const 16)))
                (local.set $a (i32.add (local.get $a) (i32.const 32)))
                (br $vec)))
            (local.set $s (i32.add (local.get $s) (local.get $rowBytes)))
            (local.set $r (i32.add (local.get $r) (i32.const 1)))
            (br $windowRows)))
        ;; each output pixel's c columns of sums -> its mean
        (local.set $a (i32.add (local.get $acc) (i32.mul (local.get $o) (i32.const 6))))
        (local.set $ox (i32.const 0))
        (block $rowOut
          (loop $cols
            (br_if $rowOut (i32.ge_u (local.get $ox) (local.get $ow)))
            (local.set $s0 (local.get $half))
            (local.set $s1 (local.get $half))
            (local.set $s2 (local.get $half))
            (local.set $j (i32.const 0))
            (block $windowDone
              (loop $window
                (br_if $windowDone (i32.ge_u (local.get $j) (local.get $c)))
                (local.set $r (i32.add (local.get $a) (i32.mul (local.get $j) (i32.const 6))))
                (local.set $s0 (i32.add (local.get $s0) (i32.load16_u (local.get $r))))
                (local.set $s1 (i32.add (local.get $s1) (i32.load16_u offset=2 (local.get $r))))
                (local.set $s2 (i32.add (local.get $s2) (i32.load16_u offset=4 (local.get $r))))
                (local.set $j (i32.add (local.get $j) (i32.const 1)))
                (br $window)))
            (i32.store8 (local.get $d) (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $s0)) (local.get $m)) (i64.const 32))))
            (i32.store8 offset=1 (local.get $d) (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $s1)) (local.get $m)) (i64.const 32))))
            (i32.store8 offset=2 (local.get $d) (i32.wrap_i64 (i64.shr_u (i64.mul (i64.extend_i32_u (local.get $s2)) (local.get $m)) (i64.const 32))))
            (local.set $d (i32.add (local.get $d) (i32.const 3)))
            (local.set $a (i32.add (local.get $a) (local.get $step)))
            (local.set $ox (i32.add (local.get $ox) (i32.const 1)))
            (br $cols)))
        (local.set $oy (i32.add (local.get $oy) (i32.const 1)))
        (br $rows)))))

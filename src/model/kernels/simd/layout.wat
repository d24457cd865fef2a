;; Data-movement loops of the convolution gradients, run on the tfjs wasm
;; backend's own heap (the memory is imported from it), so tensors are used in
;; place. All pointers are byte offsets into that heap; sizes are in floats.
;; Build: npx tsx src/model/kernels/simd/build.ts (writes layoutWasm.ts).
(module
  (import "env" "memory" (memory 1))

  ;; Copies n floats, 4 at a time while possible.
  (func $copy (param $dst i32) (param $src i32) (param $n i32)
    (local $end4 i32)
    (local.set $end4 (i32.add (local.get $dst) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $done4
      (loop $l4
        (br_if $done4 (i32.ge_u (local.get $dst) (local.get $end4)))
        (v128.store (local.get $dst) (v128.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
        (local.set $src (i32.add (local.get $src) (i32.const 16)))
        (br $l4)))
    (local.set $n (i32.and (local.get $n) (i32.const 3)))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (f32.store (local.get $dst) (f32.load (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $src (i32.add (local.get $src) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))

  ;; Zeroes n floats; the runs are short (image borders), where memory.fill's call costs more.
  (func $zero (param $dst i32) (param $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (f32.store (local.get $dst) (f32.const 0))
        (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))

  ;; One filter tap (i, j) of the transposed im2col, from channel-major input xc [images = C·N, H, W]:
;; out[img, y, x] = xc[img, y·sH + di, x·sW + dj] with di = i − pT, dj = j − pL, 0 outside the image.
;; Columns x in [lo, hi) are the ones inside (the caller computes them once per tap).
(func (export "im2colTap")
    (param $xc i32) (param $out i32) (param $images i32) (param $h i32) (param $w i32)
    (param $oh i32) (param $ow i32) (param $sh i32) (param $sw i32) (param $di i32) (param $dj i32)
    (param $lo i32) (param $hi i32)
    (local $img i32) (local $y i32) (local $ih i32) (local $src i32) (local $dst i32) (local $end i32)
    (local $imgBytes i32) (local $rowBytes i32) (local $owBytes i32) (local $stepBytes i32)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $imgBytes (i32.mul (local.get $h) (local.get $rowBytes)))
    (local.set $owBytes (i32.shl (local.get $ow) (i32.const 2)))
    (local.set $stepBytes (i32.shl (local.get $sw) (i32.const 2)))
    (local.set $img (i32.const 0))
    (block $imd (loop $iml
      (br_if $imd (i32.ge_u (local.get $img) (local.get $images)))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $ih (i32.add (i32.mul (local.get $y) (local.get $sh)) (local.get $di)))
        (if (i32.ge_u (local.get $ih) (local.get $h))
          (then (call $zero (local.get $out) (local.get $ow)))
          (else
            (call $zero (local.get $out) (local.get $lo))
            (local.set $src (i32.add
              (i32.add (i32.mul (local.get $img) (local.get $imgBytes)) (i32.mul (local.get $ih) (local.get $rowBytes)))
              (i32.add (local.get $xc)
                (i32.shl (i32.add (i32.mul (local.get $lo) (local.get $sw)) (local.get $dj)) (i32.const 2)))))
            (local.set $dst (i32.add (local.get $out) (i32.shl (local.get $lo) (i32.const 2))))
            (local.set $end (i32.add (local.get $out) (i32.shl (local.get $hi) (i32.const 2))))
            (if (i32.eq (local.get $sw) (i32.const 1))
              (then
                ;; Contiguous run: 4 floats at a time while a whole vector fits.
                (block $vd (loop $vl
                  (br_if $vd (i32.gt_u (i32.add (local.get $dst) (i32.const 16)) (local.get $end)))
                  (v128.store (local.get $dst) (v128.load (local.get $src)))
                  (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
                  (local.set $src (i32.add (local.get $src) (i32.const 16)))
                  (br $vl)))))
            (block $sd (loop $sl
              (br_if $sd (i32.ge_u (local.get $dst) (local.get $end)))
              (f32.store (local.get $dst) (f32.load (local.get $src)))
              (local.set $dst (i32.add (local.get $dst) (i32.const 4)))
              (local.set $src (i32.add (local.get $src) (local.get $stepBytes)))
              (br $sl)))
            (call $zero (local.get $end) (i32.sub (local.get $ow) (local.get $hi)))))
        (local.set $out (i32.add (local.get $out) (local.get $owBytes)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $iml))))

;; dst[j, i] = src[i, j] for a rows×cols matrix, in 4x4 blocks where possible.
  (func (export "transpose") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $r4 i32) (local $c4 i32) (local $s i32) (local $d i32)
    (local $a v128) (local $b v128) (local $c v128) (local $e v128)
    (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local.set $r4 (i32.and (local.get $rows) (i32.const -4)))
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $i (i32.const 0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $r4)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $c4)))
        (local.set $s (i32.add (local.get $src)
          (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2))))
        (local.set $a (v128.load (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $b (v128.load (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $c (v128.load (local.get $s)))
        (local.set $s (i32.add (local.get $s) (i32.shl (local.get $cols) (i32.const 2))))
        (local.set $e (v128.load (local.get $s)))
        ;; a0 b0 a1 b1 / a2 b2 a3 b3 / c0 e0 c1 e1 / c2 e2 c3 e3
        (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $a) (local.get $b)))
        (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $a) (local.get $b)))
        (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $c) (local.get $e)))
        (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $c) (local.get $e)))
        (local.set $d (i32.add (local.get $dst)
          (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2))))
        (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $rows) (i32.const 2))))
        (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $rows) (i32.const 2))))
        (v128.store (local.get $d) (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
        (local.set $d (i32.add (local.get $d) (i32.shl (local.get $rows) (i32.const 2))))
        (v128.store (local.get $d) (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br $il)))
    ;; Ragged edges: the last cols mod 4 columns of the blocked rows, then the last rows mod 4 rows.
    (call $transposeScalar (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (i32.const 0) (local.get $r4) (local.get $c4))
    (call $transposeScalar (local.get $src) (local.get $dst) (local.get $rows) (local.get $cols)
      (local.get $r4) (local.get $rows) (i32.const 0)))

  (func $transposeScalar (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (param $i0 i32) (param $i1 i32) (param $j0 i32)
    (local $i i32) (local $j i32)
    (local.set $i (local.get $i0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $j (local.get $j0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $cols)))
        (f32.store
          (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (local.get $j) (local.get $rows)) (local.get $i)) (i32.const 2)))
          (f32.load
            (i32.add (local.get $src) (i32.shl (i32.add (i32.mul (local.get $i) (local.get $cols)) (local.get $j)) (i32.const 2)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))

  ;; dx[b, a + i·sH, bb + j·sW, :] = part[b, i, j, :] for i < rows, j < cols (part is n×pRows×pCols×c).
  (func (export "scatterPhase")
    (param $part i32) (param $dx i32) (param $n i32) (param $pRows i32) (param $pCols i32)
    (param $rows i32) (param $cols i32) (param $h i32) (param $w i32) (param $c i32)
    (param $a i32) (param $bb i32) (param $sh i32) (param $sw i32)
    (local $b i32) (local $i i32) (local $j i32) (local $src i32) (local $dst i32) (local $pix i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $src (i32.add (local.get $part) (i32.mul
          (i32.mul (i32.add (i32.mul (local.get $b) (local.get $pRows)) (local.get $i)) (local.get $pCols)) (local.get $pix))))
        (local.set $dst (i32.add (local.get $dx) (i32.mul
          (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h))
            (i32.add (local.get $a) (i32.mul (local.get $i) (local.get $sh)))) (local.get $w)) (local.get $bb))
          (local.get $pix))))
        (local.set $j (i32.const 0))
        (block $jd (loop $jl
          (br_if $jd (i32.ge_u (local.get $j) (local.get $cols)))
          (call $copy (local.get $dst) (local.get $src) (local.get $c))
          (local.set $src (i32.add (local.get $src) (local.get $pix)))
          (local.set $dst (i32.add (local.get $dst) (i32.mul (local.get $pix) (local.get $sw))))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $jl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

;; dst[o, j] = scale · Σ_i src[o, i, j] for `outer` rows×cols matrices: sums over leading or
  ;; middle axes of NHWC tensors (bias gradients, global average pooling).
  (func (export "sumMiddle") (param $src i32) (param $dst i32) (param $outer i32) (param $rows i32) (param $cols i32)
    (param $scale f32)
    (local $o i32) (local $i i32) (local $j i32) (local $q i32) (local $c4 i32) (local $vscale v128)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $o (i32.const 0))
    (block $od (loop $ol
      (br_if $od (i32.ge_u (local.get $o) (local.get $outer)))
      (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $cols) (i32.const 2)))
      (local.set $i (i32.const 0))
      (block $id (loop $il
        (br_if $id (i32.ge_u (local.get $i) (local.get $rows)))
        (local.set $q (local.get $dst))
        (local.set $j (i32.const 0))
        (block $jd (loop $jl
          (br_if $jd (i32.ge_u (local.get $j) (local.get $c4)))
          (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (v128.load (local.get $src))))
          (local.set $src (i32.add (local.get $src) (i32.const 16)))
          (local.set $q (i32.add (local.get $q) (i32.const 16)))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br $jl)))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $j) (local.get $cols)))
          (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (local.get $src))))
          (local.set $src (i32.add (local.get $src) (i32.const 4)))
          (local.set $q (i32.add (local.get $q) (i32.const 4)))
          (local.set $j (i32.add (local.get $j) (i32.const 1)))
          (br $tl)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $il)))
      (if (f32.ne (local.get $scale) (f32.const 1))
        (then
          (local.set $q (local.get $dst))
          (local.set $j (i32.const 0))
          (block $sd (loop $sl
            (br_if $sd (i32.ge_u (local.get $j) (local.get $c4)))
            (v128.store (local.get $q) (f32x4.mul (v128.load (local.get $q)) (local.get $vscale)))
            (local.set $q (i32.add (local.get $q) (i32.const 16)))
            (local.set $j (i32.add (local.get $j) (i32.const 4)))
            (br $sl)))
          (block $ud (loop $ul
            (br_if $ud (i32.ge_u (local.get $j) (local.get $cols)))
            (f32.store (local.get $q) (f32.mul (f32.load (local.get $q)) (local.get $scale)))
            (local.set $q (i32.add (local.get $q) (i32.const 4)))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br $ul)))))
      (local.set $dst (i32.add (local.get $dst) (i32.shl (local.get $cols) (i32.const 2))))
      (local.set $o (i32.add (local.get $o) (i32.const 1)))
      (br $ol))))

  ;; MaxPoolGrad for non-overlapping fh×fw windows (stride = window, no padding), c % 4 == 0: each
  ;; dx element in a window gets dy where it is the window's first maximum (scan order row,
  ;; column; the cpu backend's rule), else 0. Every covered dx element is written exactly once.
  (func (export "maxPoolGradTiles")
    (param $x i32) (param $dy i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $fh i32) (param $fw i32)
    (local $b i32) (local $yr i32) (local $yc i32) (local $d i32) (local $r i32) (local $s i32) (local $k i32)
    (local $base i32) (local $off i32) (local $g i32) (local $pix i32)
    (local $m v128) (local $idx v128) (local $v v128) (local $gt v128) (local $grad v128)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (local.set $g (local.get $dy))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $yr (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $yr) (local.get $oh)))
        (local.set $yc (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $yc) (local.get $ow)))
          (local.set $base (i32.mul (local.get $pix)
            (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (i32.mul (local.get $yr) (local.get $fh)))
              (local.get $w)) (i32.mul (local.get $yc) (local.get $fw)))))
          (local.set $d (i32.const 0))
          (block $dd (loop $dl
            (br_if $dd (i32.ge_u (local.get $d) (local.get $pix)))
            (local.set $m (f32x4.splat (f32.const -inf)))
            (local.set $idx (i32x4.splat (i32.const -1)))
            (local.set $k (i32.const 0))
            (local.set $r (i32.const 0))
            (block $r1d (loop $r1l
              (br_if $r1d (i32.ge_u (local.get $r) (local.get $fh)))
              (local.set $s (i32.const 0))
              (block $s1d (loop $s1l
                (br_if $s1d (i32.ge_u (local.get $s) (local.get $fw)))
                (local.set $off (i32.add (i32.add (local.get $base) (local.get $d))
                  (i32.mul (i32.add (i32.mul (local.get $r) (local.get $w)) (local.get $s)) (local.get $pix))))
                (local.set $v (v128.load (i32.add (local.get $x) (local.get $off))))
                (local.set $gt (f32x4.gt (local.get $v) (local.get $m)))
                (local.set $m (v128.bitselect (local.get $v) (local.get $m) (local.get $gt)))
                (local.set $idx (v128.bitselect (i32x4.splat (local.get $k)) (local.get $idx) (local.get $gt)))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $s1l)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $r1l)))
            (local.set $grad (v128.load (i32.add (local.get $g) (local.get $d))))
            (local.set $k (i32.const 0))
            (local.set $r (i32.const 0))
            (block $r2d (loop $r2l
              (br_if $r2d (i32.ge_u (local.get $r) (local.get $fh)))
              (local.set $s (i32.const 0))
              (block $s2d (loop $s2l
                (br_if $s2d (i32.ge_u (local.get $s) (local.get $fw)))
                (local.set $off (i32.add (i32.add (local.get $base) (local.get $d))
                  (i32.mul (i32.add (i32.mul (local.get $r) (local.get $w)) (local.get $s)) (local.get $pix))))
                (v128.store (i32.add (local.get $dx) (local.get $off))
                  (v128.and (local.get $grad) (i32x4.eq (local.get $idx) (i32x4.splat (local.get $k)))))
                (local.set $k (i32.add (local.get $k) (i32.const 1)))
                (local.set $s (i32.add (local.get $s) (i32.const 1)))
                (br $s2l)))
              (local.set $r (i32.add (local.get $r) (i32.const 1)))
              (br $r2l)))
            (local.set $d (i32.add (local.get $d) (i32.const 16)))
            (br $dl)))
          (local.set $g (i32.add (local.get $g) (local.get $pix)))
          (local.set $yc (i32.add (local.get $yc) (i32.const 1)))
          (br $cl)))
        (local.set $yr (i32.add (local.get $yr) (i32.const 1)))
        (br $rl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

  ;; col2im, the adjoint of im2col: dx[b, y·sH + i − pT, x·sW + j − pL, ch] += cols[(b·OH + y)·OW + x,
  ;; (i·KW + j)·C + ch] over the taps inside the image; dx (n×h×w×c) is zeroed first.
  (func (export "col2im")
    (param $cols i32) (param $dx i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $y i32) (local $xo i32) (local $i i32) (local $j i32) (local $ch i32)
    (local $ih i32) (local $iw i32) (local $src i32) (local $dst i32) (local $pix i32)
    (local.set $pix (i32.shl (local.get $c) (i32.const 2)))
    (memory.fill (local.get $dx) (i32.const 0)
      (i32.mul (i32.mul (i32.mul (local.get $n) (local.get $h)) (local.get $w)) (local.get $pix)))
    (local.set $src (local.get $cols))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $y (i32.const 0))
      (block $yd (loop $yl
        (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
        (local.set $xo (i32.const 0))
        (block $xd (loop $xl
          (br_if $xd (i32.ge_u (local.get $xo) (local.get $ow)))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_u (local.get $i) (local.get $kh)))
            (local.set $ih (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh)) (local.get $i)) (local.get $pt)))
            (local.set $j (i32.const 0))
            (block $jd (loop $jl
              (br_if $jd (i32.ge_u (local.get $j) (local.get $kw)))
              (local.set $iw (i32.sub (i32.add (i32.mul (local.get $xo) (local.get $sw)) (local.get $j)) (local.get $pl)))
              (if (i32.and (i32.lt_u (local.get $ih) (local.get $h)) (i32.lt_u (local.get $iw) (local.get $w)))
                (then
                  (local.set $dst (i32.add (local.get $dx) (i32.mul (local.get $pix)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $b) (local.get $h)) (local.get $ih)) (local.get $w))
                      (local.get $iw)))))
                  (local.set $ch (i32.const 0))
                  (block $cd (loop $cl
                    (br_if $cd (i32.ge_u (local.get $ch) (local.get $pix)))
                    (f32.store (i32.add (local.get $dst) (local.get $ch))
                      (f32.add (f32.load (i32.add (local.get $dst) (local.get $ch)))
                        (f32.load (i32.add (local.get $src) (local.get $ch)))))
                    (local.set $ch (i32.add (local.get $ch) (i32.const 4)))
                    (br $cl)))))
              (local.set $src (i32.add (local.get $src) (local.get $pix)))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))
          (local.set $xo (i32.add (local.get $xo) (i32.const 1)))
          (br $xl)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br $yl)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br $bl))))

;; The filter gradient of a convolution, dw[r, o] += Σ_pixels x[pixel + rowOff[r]] · dy[pixel, o], without
;; an im2col matrix: a 4-row x 8-column tile of dw stays in registers while one image's pixels stream
;; by (one image of x and dy fits in L2), so memory traffic is one pass per tile and image.
;; xp: zero-padded input [n, hp, wp, ci]; dy: [n, oh, ow, co] with co a multiple of 8;
;; dw: [rows, co], rows a multiple of 4 (the caller pads); rowOff: i32[rows], byte offset of row r's
;; x element (tap i, j and channel c) from the pixel's top-left tap. Strides are in bytes.
(func (export "convFilterGrad")
    (param $xp i32) (param $dy i32) (param $dw i32) (param $rowOff i32) (param $rows i32)
    (param $n i32) (param $oh i32) (param $ow i32) (param $co i32)
    (param $xImgBytes i32) (param $xRowBytes i32) (param $xColBytes i32)
    (local $img i32) (local $r i32) (local $o i32) (local $y i32) (local $x i32)
    (local $ximg i32) (local $dyimg i32) (local $xa i32) (local $dyp i32) (local $xrow i32)
    (local $o0 i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
    (local $w0 i32) (local $coBytes i32) (local $dyImgBytes i32) (local $xEnd i32)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $a4 v128) (local $a5 v128) (local $a6 v128) (local $a7 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $coBytes (i32.shl (local.get $co) (i32.const 2)))
    (local.set $dyImgBytes (i32.mul (i32.mul (local.get $oh) (local.get $ow)) (local.get $coBytes)))
    (local.set $img (i32.const 0))
    (block $imd (loop $iml
      (br_if $imd (i32.ge_u (local.get $img) (local.get $n)))
      (local.set $ximg (i32.add (local.get $xp) (i32.mul (local.get $img) (local.get $xImgBytes))))
      (local.set $dyimg (i32.add (local.get $dy) (i32.mul (local.get $img) (local.get $dyImgBytes))))
      (local.set $r (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $o0 (i32.load (i32.add (local.get $rowOff) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o1 (i32.load offset=4 (i32.add (local.get $rowOff) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o2 (i32.load offset=8 (i32.add (local.get $rowOff) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o3 (i32.load offset=12 (i32.add (local.get $rowOff) (i32.shl (local.get $r) (i32.const 2)))))
        (local.set $o (i32.const 0))
        (block $od (loop $ol
          (br_if $od (i32.ge_u (local.get $o) (local.get $co)))
          ;; w0: dw[r, o]; rows r+1..r+3 are coBytes apart.
          (local.set $w0 (i32.add (local.get $dw)
            (i32.shl (i32.add (i32.mul (local.get $r) (local.get $co)) (local.get $o)) (i32.const 2))))
          (local.set $a0 (v128.load (local.get $w0)))
          (local.set $a1 (v128.load offset=16 (local.get $w0)))
          (local.set $a2 (v128.load (i32.add (local.get $w0) (local.get $coBytes))))
          (local.set $a3 (v128.load offset=16 (i32.add (local.get $w0) (local.get $coBytes))))
          (local.set $a4 (v128.load (i32.add (local.get $w0) (i32.shl (local.get $coBytes) (i32.const 1)))))
          (local.set $a5 (v128.load offset=16 (i32.add (local.get $w0) (i32.shl (local.get $coBytes) (i32.const 1)))))
          (local.set $a6 (v128.load (i32.add (local.get $w0) (i32.mul (local.get $coBytes) (i32.const 3)))))
          (local.set $a7 (v128.load offset=16 (i32.add (local.get $w0) (i32.mul (local.get $coBytes) (i32.const 3)))))
          (local.set $dyp (i32.add (local.get $dyimg) (i32.shl (local.get $o) (i32.const 2))))
          (local.set $xrow (local.get $ximg))
          (local.set $y (i32.const 0))
          (block $yd (loop $yl
            (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
            (local.set $xa (local.get $xrow))
            (local.set $xEnd (i32.add (local.get $xrow) (i32.mul (local.get $ow) (local.get $xColBytes))))
            (block $xd (loop $xl
              (br_if $xd (i32.ge_u (local.get $xa) (local.get $xEnd)))
              (local.set $d0 (v128.load (local.get $dyp)))
              (local.set $d1 (v128.load offset=16 (local.get $dyp)))
              (local.set $s (v128.load32_splat (i32.add (local.get $xa) (local.get $o0))))
              (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $xa) (local.get $o1))))
              (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $xa) (local.get $o2))))
              (local.set $a4 (f32x4.add (local.get $a4) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a5 (f32x4.add (local.get $a5) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $s (v128.load32_splat (i32.add (local.get $xa) (local.get $o3))))
              (local.set $a6 (f32x4.add (local.get $a6) (f32x4.mul (local.get $s) (local.get $d0))))
              (local.set $a7 (f32x4.add (local.get $a7) (f32x4.mul (local.get $s) (local.get $d1))))
              (local.set $dyp (i32.add (local.get $dyp) (local.get $coBytes)))
              (local.set $xa (i32.add (local.get $xa) (local.get $xColBytes)))
              (br $xl)))
            (local.set $xrow (i32.add (local.get $xrow) (local.get $xRowBytes)))
            (local.set $y (i32.add (local.get $y) (i32.const 1)))
            (br $yl)))
          (v128.store (local.get $w0) (local.get $a0))
          (v128.store offset=16 (local.get $w0) (local.get $a1))
          (v128.store (i32.add (local.get $w0) (local.get $coBytes)) (local.get $a2))
          (v128.store offset=16 (i32.add (local.get $w0) (local.get $coBytes)) (local.get $a3))
          (v128.store (i32.add (local.get $w0) (i32.shl (local.get $coBytes) (i32.const 1))) (local.get $a4))
          (v128.store offset=16 (i32.add (local.get $w0) (i32.shl (local.get $coBytes) (i32.const 1))) (local.get $a5))
          (v128.store (i32.add (local.get $w0) (i32.mul (local.get $coBytes) (i32.const 3))) (local.get $a6))
          (v128.store offset=16 (i32.add (local.get $w0) (i32.mul (local.get $coBytes) (i32.const 3))) (local.get $a7))
          (local.set $o (i32.add (local.get $o) (i32.const 8)))
          (br $ol)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rl)))
      (local.set $img (i32.add (local.get $img) (i32.const 1)))
      (br $iml))))

)

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

  ;; out[(b·OH + y)·OW + x, (i·KW + j)·C + c] = x[b, y·sH + i − pT, x·sW + j − pL, c], 0 outside.
  (func (export "im2col")
    (param $x i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $b i32) (local $y i32) (local $xo i32) (local $i i32) (local $j i32)
    (local $ih i32) (local $iw i32) (local $rowBytes i32) (local $imgBase i32)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $b (i32.const 0))
    (block $bd (loop $bl
      (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
      (local.set $imgBase (i32.add (local.get $x)
        (i32.mul (i32.mul (local.get $b) (i32.mul (local.get $h) (local.get $w))) (local.get $rowBytes))))
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
                  (call $copy (local.get $out)
                    (i32.add (local.get $imgBase)
                      (i32.mul (i32.add (i32.mul (local.get $ih) (local.get $w)) (local.get $iw)) (local.get $rowBytes)))
                    (local.get $c)))
                (else (memory.fill (local.get $out) (i32.const 0) (local.get $rowBytes))))
              (local.set $out (i32.add (local.get $out) (local.get $rowBytes)))
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

  ;; The transposed im2col from channel-major input xc [C, N, H, W]:
;; out[(i·KW + j)·C + c, (b·OH + y)·OW + x] = xc[c, b, y·sH + i − pT, x·sW + j − pL], 0 outside.
(func (export "im2colT")
    (param $xc i32) (param $out i32) (param $n i32) (param $h i32) (param $w i32) (param $c i32)
    (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32)
    (param $sh i32) (param $sw i32) (param $pt i32) (param $pl i32)
    (local $i i32) (local $j i32) (local $ci i32) (local $b i32) (local $y i32) (local $xo i32)
    (local $ih i32) (local $iw i32) (local $row i32) (local $imgBytes i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $w) (i32.const 2)))
    (local.set $imgBytes (i32.mul (local.get $h) (local.get $rowBytes)))
    (local.set $i (i32.const 0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $kh)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $kw)))
        (local.set $ci (i32.const 0))
        (block $cd (loop $cl
          (br_if $cd (i32.ge_u (local.get $ci) (local.get $c)))
          (local.set $b (i32.const 0))
          (block $bd (loop $bl
            (br_if $bd (i32.ge_u (local.get $b) (local.get $n)))
            (local.set $y (i32.const 0))
            (block $yd (loop $yl
              (br_if $yd (i32.ge_u (local.get $y) (local.get $oh)))
              (local.set $ih (i32.sub (i32.add (i32.mul (local.get $y) (local.get $sh)) (local.get $i)) (local.get $pt)))
              (if (i32.ge_u (local.get $ih) (local.get $h))
                (then
                  (memory.fill (local.get $out) (i32.const 0) (i32.shl (local.get $ow) (i32.const 2)))
                  (local.set $out (i32.add (local.get $out) (i32.shl (local.get $ow) (i32.const 2)))))
                (else
                  (local.set $row (i32.add (local.get $xc)
                    (i32.add (i32.mul (i32.add (i32.mul (local.get $ci) (local.get $n)) (local.get $b)) (local.get $imgBytes))
                      (i32.mul (local.get $ih) (local.get $rowBytes)))))
                  (local.set $iw (i32.sub (local.get $j) (local.get $pl)))
                  (local.set $xo (i32.const 0))
                  (block $xd (loop $xl
                    (br_if $xd (i32.ge_u (local.get $xo) (local.get $ow)))
                    (f32.store (local.get $out)
                      (if (result f32) (i32.lt_u (local.get $iw) (local.get $w))
                        (then (f32.load (i32.add (local.get $row) (i32.shl (local.get $iw) (i32.const 2)))))
                        (else (f32.const 0))))
                    (local.set $out (i32.add (local.get $out) (i32.const 4)))
                    (local.set $iw (i32.add (local.get $iw) (local.get $sw)))
                    (local.set $xo (i32.add (local.get $xo) (i32.const 1)))
                    (br $xl)))))
              (local.set $y (i32.add (local.get $y) (i32.const 1)))
              (br $yl)))
            (local.set $b (i32.add (local.get $b) (i32.const 1)))
            (br $bl)))
          (local.set $ci (i32.add (local.get $ci) (i32.const 1)))
          (br $cl)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))

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

  ;; dst[j] = Σ_i src[i, j] for a rows×cols matrix (the bias gradient of NHWC activations).
  (func (export "sumRows") (param $src i32) (param $dst i32) (param $rows i32) (param $cols i32)
    (local $i i32) (local $j i32) (local $p i32) (local $q i32) (local $c4 i32)
    (local.set $c4 (i32.and (local.get $cols) (i32.const -4)))
    (memory.fill (local.get $dst) (i32.const 0) (i32.shl (local.get $cols) (i32.const 2)))
    (local.set $p (local.get $src))
    (local.set $i (i32.const 0))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $rows)))
      (local.set $q (local.get $dst))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (local.get $c4)))
        (v128.store (local.get $q) (f32x4.add (v128.load (local.get $q)) (v128.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 16)))
        (local.set $q (i32.add (local.get $q) (i32.const 16)))
        (local.set $j (i32.add (local.get $j) (i32.const 4)))
        (br $jl)))
      (block $td (loop $tl
        (br_if $td (i32.ge_u (local.get $j) (local.get $cols)))
        (f32.store (local.get $q) (f32.add (f32.load (local.get $q)) (f32.load (local.get $p))))
        (local.set $p (i32.add (local.get $p) (i32.const 4)))
        (local.set $q (i32.add (local.get $q) (i32.const 4)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $tl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))
)

#include "textflag.h"
#include "evenodd_amd64.h"

// Elementwise and reduction kernels over n floats, n a positive multiple
// of 8 (the Go wrappers in vec.go do the rest). Loads and stores are
// unaligned. Products are rounded before sums where vec.go's scalar
// definitions round them (Affine, BNGrad); the reductions use fused
// multiply-adds in float64.

// func affine8(y, x *float32, n int, a, b float32)
// y = x·a + b
TEXT ·affine8(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	XORQ         AX, AX

affine_loop:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  Y1, Y0, Y0
	VADDPS  Y2, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     affine_loop
	VZEROUPPER
	RET

// func affineRelu8(y, x *float32, n int, a, b float32)
// y = max(x·a + b, 0) with Go's max: NaN stays NaN, −0 becomes +0.
TEXT ·affineRelu8(SB), NOSPLIT, $0-32
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	VBROADCASTSS b+28(FP), Y2
	VXORPS       Y3, Y3, Y3
	XORQ         AX, AX

affinerelu_loop:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  Y1, Y0, Y0
	VADDPS  Y2, Y0, Y0
	VMAXPS  Y0, Y3, Y0 // 0 > v ? 0 : v, so NaN passes
	VADDPS  Y3, Y0, Y0 // −0 + 0 = +0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     affinerelu_loop
	VZEROUPPER
	RET

// MASK(Y, M) sets M to all ones in the lanes where the float32 bits of Y,
// as signed integers, lie in [1, 0x7f800000]: exactly where Y > 0 (−0 and
// negatives have the sign bit, NaNs lie above +Inf). Y13 holds
// 0x7f800001 in every lane, Y14 zero.
#define MASK(Y, M) \
	VPCMPGTD Y14, Y, M; \
	VPCMPGTD Y, Y13, Y12; \
	VPAND    Y12, M, M

// MASKCONSTS loads MASK's constants: 0x7f800001 in every lane of Y13,
// zero in Y14. R9 is clobbered.
#define MASKCONSTS \
	MOVL         $0x7f800001, R9; \
	MOVQ         R9, X13; \
	VPBROADCASTD X13, Y13; \
	VPXOR        Y14, Y14, Y14

// func bnGrad8(dx, dy, x *float32, n int, alpha, beta, gamma, a, b float32, on int)
// dx = (alpha·g + beta·x) + gamma, g = dy, or with on set dy where
// x·a + b > 0 (Rectifier).
TEXT ·bnGrad8(SB), NOSPLIT, $0-64
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         x+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSS alpha+32(FP), Y1
	VBROADCASTSS beta+36(FP), Y2
	VBROADCASTSS gamma+40(FP), Y3
	VBROADCASTSS a+44(FP), Y8
	VBROADCASTSS b+48(FP), Y9
	MOVQ         on+56(FP), R8
	MASKCONSTS
	XORQ         AX, AX
	TESTQ        R8, R8
	JNZ          bngradmask_loop

bngrad_loop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (DX)(AX*4), Y4
	VMULPS  Y1, Y0, Y0
	VMULPS  Y2, Y4, Y4
	VADDPS  Y4, Y0, Y0
	VADDPS  Y3, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     bngrad_loop
	VZEROUPPER
	RET

bngradmask_loop:
	VMOVUPS (DX)(AX*4), Y4
	VMULPS  Y8, Y4, Y5
	VADDPS  Y9, Y5, Y5 // x·a + b, as Affine rounds it
	MASK(Y5, Y6)
	VMOVUPS (SI)(AX*4), Y0
	VPAND   Y6, Y0, Y0
	VMULPS  Y1, Y0, Y0
	VMULPS  Y2, Y4, Y4
	VADDPS  Y4, Y0, Y0
	VADDPS  Y3, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     bngradmask_loop
	VZEROUPPER
	RET

// func reluGrad8(dx, y, dy *float32, n int)
// dx = dy where y > 0, +0 elsewhere.
TEXT ·reluGrad8(SB), NOSPLIT, $0-32
	MOVQ         dx+0(FP), DI
	MOVQ         y+8(FP), SI
	MOVQ         dy+16(FP), DX
	MOVQ         n+24(FP), CX
	MASKCONSTS
	XORQ         AX, AX

relugrad_loop:
	VMOVUPS (SI)(AX*4), Y5
	MASK(Y5, Y6)
	VMOVUPS (DX)(AX*4), Y0
	VPAND   Y6, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     relugrad_loop
	VZEROUPPER
	RET

// HSUM2(Y0, Y1) leaves in X0's low lane the sum of the eight float64
// lanes of Y0 and Y1 in vec.go's order: t = Y0 + Y1 lane by lane, then
// (t0 + t2) + (t1 + t3).
#define HSUM2(A, B, XA) \
	VADDPD       B, A, A; \
	VEXTRACTF128 $1, A, X12; \
	VADDPD       X12, XA, XA; \
	VHADDPD      XA, XA, XA

// func sums8(u, v *float32, n int, out *[2]float64, a, b float32, on int)
// out = Σg and Σg·w in float64, g = u (or with on set u where v·a + b > 0:
// Rectifier) and w = v, or w = g when v is nil (then out = Σu, Σu²).
// Floats i..i+3 of every 8 go to the low accumulators, i+4..i+7 to the
// high ones; products are fused into the sums.
TEXT ·sums8(SB), NOSPLIT, $0-48
	MOVQ         u+0(FP), SI
	MOVQ         v+8(FP), DX
	MOVQ         n+16(FP), CX
	MOVQ         out+24(FP), DI
	VBROADCASTSS a+32(FP), Y15
	MOVQ         on+40(FP), R8
	MASKCONSTS
	VXORPD       Y0, Y0, Y0 // Σ, low
	VXORPD       Y1, Y1, Y1 // Σ, high
	VXORPD       Y2, Y2, Y2 // Σ·, low
	VXORPD       Y3, Y3, Y3 // Σ·, high
	XORQ         AX, AX

sums_loop:
	VMOVUPS (SI)(AX*4), Y4
	VMOVAPS Y4, Y7 // w = g unless v is set
	TESTQ   DX, DX
	JZ      sums_w
	VMOVUPS (DX)(AX*4), Y7
	TESTQ   R8, R8
	JZ      sums_w
	VMULPS       Y15, Y7, Y5
	VBROADCASTSS b+36(FP), Y6
	VADDPS       Y6, Y5, Y5 // v·a + b, as Affine rounds it
	MASK(Y5, Y6)
	VPAND        Y6, Y4, Y4

sums_w:
	VCVTPS2PD    X4, Y8
	VEXTRACTF128 $1, Y4, X4
	VCVTPS2PD    X4, Y9
	VCVTPS2PD    X7, Y10
	VEXTRACTF128 $1, Y7, X7
	VCVTPS2PD    X7, Y11
	VADDPD       Y8, Y0, Y0
	VADDPD       Y9, Y1, Y1
	VFMADD231PD  Y10, Y8, Y2
	VFMADD231PD  Y11, Y9, Y3
	ADDQ         $8, AX
	CMPQ         AX, CX
	JLT          sums_loop

	HSUM2(Y0, Y1, X0)
	VMOVSD X0, (DI)
	HSUM2(Y2, Y3, X2)
	VMOVSD X2, 8(DI)
	VZEROUPPER
	RET

// GOMAX(A, B) sets A to Go's max(A, B) lane by lane: a NaN if either is,
// +0 for −0 and +0 (their AND), else the larger (VMAXPS alone returns B
// for a NaN A and for equal zeros). Y10–Y13 are clobbered.
#define GOMAX(A, B) \
	VCMPPS    $0, B, A, Y10; \
	VCMPPS    $3, B, A, Y11; \
	VANDPS    B, A, Y12; \
	VADDPS    B, A, Y13; \
	VMAXPS    B, A, A; \
	VBLENDVPS Y10, Y12, A, A; \
	VBLENDVPS Y11, Y13, A, A

// LOADPAIRS(base, E, O) loads the 16 floats from float 2·AX of base and
// leaves their even elements in E and odd ones in O, each in order.
#define LOADPAIRS(base, E, O) \
	VMOVUPS (base)(AX*8), Y8; \
	VMOVUPS 32(base)(AX*8), Y9; \
	DEINT(Y8, Y9, E, O)

// func maxPool2x2Row(y, r0, r1 *float32, n int)
// y[i] = max(max(r0[2i], r0[2i+1]), max(r1[2i], r1[2i+1])) (Go's max)
// for i < n, n a positive multiple of 8.
TEXT ·maxPool2x2Row(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ r0+8(FP), SI
	MOVQ r1+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

maxpool_loop:
	LOADPAIRS(SI, Y0, Y1)
	LOADPAIRS(DX, Y2, Y3)
	GOMAX(Y0, Y1)
	GOMAX(Y2, Y3)
	GOMAX(Y0, Y2)
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     maxpool_loop
	VZEROUPPER
	RET

// INTERLEAVE_STORE(A, B, base) stores A0 B0 A1 B1 … A7 B7 at float 2·AX
// of base. Y8 and Y9 are clobbered.
#define INTERLEAVE_STORE(A, B, base) \
	INTERLEAVE(A, B, A, B, Y8, Y9); \
	VMOVUPS A, (base)(AX*8); \
	VMOVUPS B, 32(base)(AX*8)

// func maxPool2x2BackRow(d0, d1, r0, r1, y, dy *float32, n int)
// The input gradient of MaxPool2x2Row for n outputs, n a positive
// multiple of 8: dy[i] goes to the first tap of window i whose bits equal
// y[i]'s (the first tap when y[i] is a NaN), the other three taps get +0.
TEXT ·maxPool2x2BackRow(SB), NOSPLIT, $0-56
	MOVQ     d0+0(FP), DI
	MOVQ     d1+8(FP), BX
	MOVQ     r0+16(FP), SI
	MOVQ     r1+24(FP), DX
	MOVQ     y+32(FP), R8
	MOVQ     dy+40(FP), R9
	MOVQ     n+48(FP), CX
	VPCMPEQD Y14, Y14, Y14 // all ones
	XORQ     AX, AX

maxpoolback_loop:
	LOADPAIRS(SI, Y0, Y1)
	LOADPAIRS(DX, Y2, Y3)
	VMOVUPS  (R8)(AX*4), Y4
	VMOVUPS  (R9)(AX*4), Y5
	VPCMPEQD Y4, Y0, Y6      // ea
	VPCMPEQD Y4, Y1, Y7      // eb
	VPCMPEQD Y4, Y2, Y10     // ec
	VPCMPEQD Y4, Y3, Y11     // ed
	VCMPPS   $3, Y4, Y4, Y12 // y is a NaN
	VPOR     Y12, Y6, Y6
	VPANDN   Y14, Y6, Y6     // notA = ¬(ea ∨ NaN)
	VPAND    Y6, Y7, Y12     // tb = eb ∧ notA
	VPANDN   Y6, Y7, Y6      // notA ∧ ¬eb
	VPAND    Y6, Y10, Y13    // tc
	VPANDN   Y6, Y10, Y6     // notA ∧ ¬eb ∧ ¬ec
	VPAND    Y6, Y11, Y11    // td
	VPOR     Y12, Y13, Y15
	VPOR     Y11, Y15, Y15
	VPANDN   Y14, Y15, Y15   // ta = ¬(tb ∨ tc ∨ td)
	VPAND    Y5, Y15, Y0
	VPAND    Y5, Y12, Y1
	VPAND    Y5, Y13, Y2
	VPAND    Y5, Y11, Y3
	INTERLEAVE_STORE(Y0, Y1, DI)
	INTERLEAVE_STORE(Y2, Y3, BX)
	ADDQ     $8, AX
	CMPQ     AX, CX
	JLT      maxpoolback_loop
	VZEROUPPER
	RET

// func add8(y, a, b *float32, n int)
// y = a + b
TEXT ·add8(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX

add_loop:
	VMOVUPS (SI)(AX*4), Y0
	VADDPS  (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     add_loop
	VZEROUPPER
	RET

// tailMask holds eight all-ones lanes then eight zero lanes: the 8
// floats from lane 8−r select the first r lanes.
DATA tailMask<>+0(SB)/8, $0xffffffffffffffff
DATA tailMask<>+8(SB)/8, $0xffffffffffffffff
DATA tailMask<>+16(SB)/8, $0xffffffffffffffff
DATA tailMask<>+24(SB)/8, $0xffffffffffffffff
DATA tailMask<>+32(SB)/8, $0
DATA tailMask<>+40(SB)/8, $0
DATA tailMask<>+48(SB)/8, $0
DATA tailMask<>+56(SB)/8, $0
GLOBL tailMask<>(SB), RODATA|NOPTR, $64

// TAILMASK(CX, M) sets M to the lane mask of the last n mod 8 floats (CX
// holds n); it leaves the flags of that remainder (ZF when there is none).
// R10 and R11 are clobbered.
#define TAILMASK(M) \
	MOVQ    CX, R10; \
	ANDQ    $7, R10; \
	NEGQ    R10; \
	ADDQ    $8, R10; \
	LEAQ    tailMask<>(SB), R11; \
	VMOVUPS (R11)(R10*4), M

// func axpy(y, x *float32, n int, a float32)
// y += a·x over n ≥ 1 floats, the product rounded before the sum; the last
// n mod 8 through masked loads and stores.
TEXT ·axpy(SB), NOSPLIT, $0-28
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y1
	XORQ         AX, AX
	MOVQ         CX, R9
	ANDQ         $-8, R9
	JZ           axpy_tail

axpy_loop:
	VMULPS  (SI)(AX*4), Y1, Y0
	VADDPS  (DI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, R9
	JLT     axpy_loop

axpy_tail:
	CMPQ       AX, CX
	JGE        axpy_done
	TAILMASK(Y5)
	VMASKMOVPS (SI)(AX*4), Y5, Y2
	VMASKMOVPS (DI)(AX*4), Y5, Y3
	VMULPS     Y2, Y1, Y0
	VADDPS     Y3, Y0, Y0
	VMASKMOVPS Y0, Y5, (DI)(AX*4)

axpy_done:
	VZEROUPPER
	RET

// func dot(x, y *float32, n int) float32
// Σ x·y over n ≥ 1 floats in 8 lanes: lane l takes floats l, l+8, …
// (each product rounded before its sum; the last n mod 8 floats, through
// masked loads, go to the first lanes), then ((0+4) + (2+6)) + ((1+5) +
// (3+7)).
TEXT ·dot(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DX
	MOVQ   n+16(FP), CX
	VXORPS Y0, Y0, Y0
	XORQ   AX, AX
	MOVQ   CX, R9
	ANDQ   $-8, R9
	JZ     dot_tail

dot_loop:
	VMOVUPS (SI)(AX*4), Y1
	VMULPS  (DX)(AX*4), Y1, Y1
	VADDPS  Y1, Y0, Y0
	ADDQ    $8, AX
	CMPQ    AX, R9
	JLT     dot_loop

dot_tail:
	CMPQ       AX, CX
	JGE        dot_sum
	TAILMASK(Y5)
	VMASKMOVPS (SI)(AX*4), Y5, Y1
	VMASKMOVPS (DX)(AX*4), Y5, Y2
	VMULPS     Y2, Y1, Y1
	VADDPS     Y1, Y0, Y0

dot_sum:
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0 // lanes l + (l+4)
	VMOVHLPS     X0, X1, X1 // X1 low = lanes 2, 3
	VADDPS       X1, X0, X0 // (0+4)+(2+6), (1+5)+(3+7)
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	VMOVSS       X0, ret+24(FP)
	VZEROUPPER
	RET

// func copyRows(dst *float32, ds int, src *float32, ss, w, h int)
// Copies h ≥ 1 rows of w ≥ 1 floats. With w ≥ 8 the last w mod 8 floats
// of a row go with the row's last 8, stored again over the ones before
// (masked stores are slow); shorter rows go through masked loads and
// stores.
TEXT ·copyRows(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ds+8(FP), DX
	MOVQ src+16(FP), SI
	MOVQ ss+24(FP), BX
	MOVQ w+32(FP), CX
	MOVQ h+40(FP), R8
	SHLQ $2, DX
	SHLQ $2, BX
	MOVQ CX, R9
	ANDQ $-8, R9
	JZ   copyrows_short
	LEAQ -8(CX), R10 // the last 8 floats of a row

copyrows_row:
	XORQ AX, AX

copyrows_loop:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, R9
	JLT     copyrows_loop
	CMPQ    AX, CX
	JGE     copyrows_next
	VMOVUPS (SI)(R10*4), Y0
	VMOVUPS Y0, (DI)(R10*4)

copyrows_next:
	ADDQ DX, DI
	ADDQ BX, SI
	DECQ R8
	JNZ  copyrows_row
	VZEROUPPER
	RET

copyrows_short:
	TAILMASK(Y5)

copyrows_shortrow:
	VMASKMOVPS (SI), Y5, Y0
	VMASKMOVPS Y0, Y5, (DI)
	ADDQ       DX, DI
	ADDQ       BX, SI
	DECQ       R8
	JNZ        copyrows_shortrow
	VZEROUPPER
	RET

// DEINT16(SRC, E, O) stores the even floats of the 16 at SRC to E and the
// odd ones to O; DEINT8 does it for 8 floats. INT16 and INT8 are their
// inverses.
#define DEINT16(SRC, E, O) \
	VMOVUPS (SRC), Y0; \
	VMOVUPS 32(SRC), Y1; \
	DEINT(Y0, Y1, Y2, Y3); \
	VMOVUPS Y2, (E); \
	VMOVUPS Y3, (O)

#define DEINT8(SRC, E, O) \
	VMOVUPS (SRC), Y0; \
	VSHUFPS $0x88, Y0, Y0, Y2; \
	VSHUFPS $0xDD, Y0, Y0, Y3; \
	VPERMPD $0x08, Y2, Y2; \
	VPERMPD $0x08, Y3, Y3; \
	VMOVUPS X2, (E); \
	VMOVUPS X3, (O)

#define INT16(DST, E, O) \
	VMOVUPS (E), Y0; \
	VMOVUPS (O), Y1; \
	INTERLEAVE(Y0, Y1, Y0, Y1, Y2, Y3); \
	VMOVUPS Y0, (DST); \
	VMOVUPS Y1, 32(DST)

#define INT8(DST, E, O) \
	VMOVUPS   (E), X0; \
	VMOVUPS   (O), X1; \
	VUNPCKLPS X1, X0, X2; \
	VUNPCKHPS X1, X0, X3; \
	VMOVUPS   X2, (DST); \
	VMOVUPS   X3, 16(DST)

// func evenOdd(inter, even, odd *float32, n int, join bool)
// even[k] = inter[2k], odd[k] = inter[2k+1] for n ≥ 8 floats of inter, or
// with join set the other way, in groups of 16 (or 8 when n < 16); the
// last group starts at the last even offset that keeps it inside inter,
// overlapping the one before, and an odd n's last float goes on its own.
// It reads and writes nothing else.
TEXT ·evenOdd(SB), NOSPLIT, $0-33
	MOVQ    inter+0(FP), SI
	MOVQ    even+8(FP), DI
	MOVQ    odd+16(FP), DX
	MOVQ    n+24(FP), CX
	MOVBLZX join+32(FP), BX
	MOVQ    $16, R8 // group size
	CMPQ    CX, $16
	JGE     eo_groups
	MOVQ    $8, R8

eo_groups:
	MOVQ CX, R9
	SUBQ R8, R9
	ANDQ $-2, R9 // the last group's start
	XORQ AX, AX

eo_loop:
	CMPQ AX, R9
	JLE  eo_at
	MOVQ R9, AX // the overlapping last group

eo_at:
	LEAQ  (SI)(AX*4), R10
	MOVQ  AX, R11
	SHRQ  $1, R11
	LEAQ  (DI)(R11*4), R12
	LEAQ  (DX)(R11*4), R13
	CMPQ  R8, $16
	JNE   eo_8
	TESTQ BX, BX
	JNZ   eo_join16
	DEINT16(R10, R12, R13)
	JMP   eo_next

eo_join16:
	INT16(R10, R12, R13)
	JMP eo_next

eo_8:
	TESTQ BX, BX
	JNZ   eo_join8
	DEINT8(R10, R12, R13)
	JMP   eo_next

eo_join8:
	INT8(R10, R12, R13)

eo_next:
	CMPQ AX, R9
	JGE  eo_tail
	ADDQ R8, AX
	JMP  eo_loop

eo_tail:
	TESTQ $1, CX
	JZ    eo_done
	MOVQ  CX, R11
	SHRQ  $1, R11
	TESTQ BX, BX
	JNZ   eo_jointail
	VMOVSS -4(SI)(CX*4), X0
	VMOVSS X0, (DI)(R11*4)
	JMP    eo_done

eo_jointail:
	VMOVSS (DI)(R11*4), X0
	VMOVSS X0, -4(SI)(CX*4)

eo_done:
	VZEROUPPER
	RET

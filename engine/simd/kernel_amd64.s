#include "textflag.h"

// ZERO12 clears the twelve accumulators Y0–Y11.
#define ZERO12 \
	VXORPS Y0, Y0, Y0; \
	VXORPS Y1, Y1, Y1; \
	VXORPS Y2, Y2, Y2; \
	VXORPS Y3, Y3, Y3; \
	VXORPS Y4, Y4, Y4; \
	VXORPS Y5, Y5, Y5; \
	VXORPS Y6, Y6, Y6; \
	VXORPS Y7, Y7, Y7; \
	VXORPS Y8, Y8, Y8; \
	VXORPS Y9, Y9, Y9; \
	VXORPS Y10, Y10, Y10; \
	VXORPS Y11, Y11, Y11

// LOADC loads a row of C at DX into Y12–Y14; ZEROC sets them to +0
// instead, so that C's old contents are ignored and the result has the
// bits of a zeroed C.
#define LOADC \
	VMOVUPS (DX), Y12; \
	VMOVUPS 32(DX), Y13; \
	VMOVUPS 64(DX), Y14

#define ZEROC \
	VXORPS Y12, Y12, Y12; \
	VXORPS Y13, Y13, Y13; \
	VXORPS Y14, Y14, Y14

// CROW(A0, A1, A2, INIT) writes the row of C at DX: INIT's values plus
// alpha (Y15) times the accumulators A0–A2; DX then moves a row on.
#define CROW(A0, A1, A2, INIT) \
	INIT; \
	VFMADD231PS A0, Y15, Y12; \
	VFMADD231PS A1, Y15, Y13; \
	VFMADD231PS A2, Y15, Y14; \
	VMOVUPS     Y12, (DX); \
	VMOVUPS     Y13, 32(DX); \
	VMOVUPS     Y14, 64(DX); \
	ADDQ        R8, DX

// func kernel(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool)
//
// C[4×24] += alpha · A·B, or with fresh set C = +0 + alpha · A·B: a is a
// packed panel of k columns of 4 floats; b holds k rows of 24 floats, ldb
// floats apart (24 for a packed panel). Twelve accumulators (four rows,
// three 8-wide vectors) take one fused multiply-add per element and step.
TEXT ·kernel(SB), NOSPLIT, $0-53
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldb+32(FP), R9
	SHLQ $2, R9
	MOVQ ldc+40(FP), R8
	SHLQ $2, R8
	ZERO12

loop:
	VMOVUPS      (DI), Y12
	VMOVUPS      32(DI), Y13
	VMOVUPS      64(DI), Y14
	VBROADCASTSS (SI), Y15
	VFMADD231PS  Y12, Y15, Y0
	VFMADD231PS  Y13, Y15, Y1
	VFMADD231PS  Y14, Y15, Y2
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS  Y12, Y15, Y3
	VFMADD231PS  Y13, Y15, Y4
	VFMADD231PS  Y14, Y15, Y5
	VBROADCASTSS 8(SI), Y15
	VFMADD231PS  Y12, Y15, Y6
	VFMADD231PS  Y13, Y15, Y7
	VFMADD231PS  Y14, Y15, Y8
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS  Y12, Y15, Y9
	VFMADD231PS  Y13, Y15, Y10
	VFMADD231PS  Y14, Y15, Y11
	ADDQ         $16, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          loop

	VBROADCASTSS alpha+48(FP), Y15
	MOVBLZX      fresh+52(FP), AX
	TESTQ        AX, AX
	JNZ          kernel_fresh
	CROW(Y0, Y1, Y2, LOADC)
	CROW(Y3, Y4, Y5, LOADC)
	CROW(Y6, Y7, Y8, LOADC)
	CROW(Y9, Y10, Y11, LOADC)
	VZEROUPPER
	RET

kernel_fresh:
	CROW(Y0, Y1, Y2, ZEROC)
	CROW(Y3, Y4, Y5, ZEROC)
	CROW(Y6, Y7, Y8, ZEROC)
	CROW(Y9, Y10, Y11, ZEROC)
	VZEROUPPER
	RET

// LOADC8 and ZEROC8 are LOADC and ZEROC for one vector, Y12.
#define LOADC8 VMOVUPS (DX), Y12
#define ZEROC8 VXORPS Y12, Y12, Y12

// CROW8(A, INIT) is CROW for one 8-wide vector a row.
#define CROW8(A, INIT) \
	INIT; \
	VFMADD231PS A, Y15, Y12; \
	VMOVUPS     Y12, (DX); \
	ADDQ        R8, DX

// func kernel8(k int, a, b, c *float32, ldb, ldc int, alpha float32, fresh bool)
//
// kernel for a 4×8 block of C: the edge of a product whose last panel of
// B is at most 8 columns wide, in a third of the full kernel's work.
TEXT ·kernel8(SB), NOSPLIT, $0-53
	MOVQ   k+0(FP), CX
	MOVQ   a+8(FP), SI
	MOVQ   b+16(FP), DI
	MOVQ   c+24(FP), DX
	MOVQ   ldb+32(FP), R9
	SHLQ   $2, R9
	MOVQ   ldc+40(FP), R8
	SHLQ   $2, R8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3

kernel8_loop:
	VMOVUPS      (DI), Y12
	VBROADCASTSS (SI), Y15
	VFMADD231PS  Y12, Y15, Y0
	VBROADCASTSS 4(SI), Y15
	VFMADD231PS  Y12, Y15, Y1
	VBROADCASTSS 8(SI), Y15
	VFMADD231PS  Y12, Y15, Y2
	VBROADCASTSS 12(SI), Y15
	VFMADD231PS  Y12, Y15, Y3
	ADDQ         $16, SI
	ADDQ         R9, DI
	DECQ         CX
	JNZ          kernel8_loop

	VBROADCASTSS alpha+48(FP), Y15
	MOVBLZX      fresh+52(FP), AX
	TESTQ        AX, AX
	JNZ          kernel8_fresh
	CROW8(Y0, LOADC8)
	CROW8(Y1, LOADC8)
	CROW8(Y2, LOADC8)
	CROW8(Y3, LOADC8)
	VZEROUPPER
	RET

kernel8_fresh:
	CROW8(Y0, ZEROC8)
	CROW8(Y1, ZEROC8)
	CROW8(Y2, ZEROC8)
	CROW8(Y3, ZEROC8)
	VZEROUPPER
	RET

// func dotKernel(k8 int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32)
//
// C[i·ldc+j] += alpha · Σ a[i·lda+p]·b[j·ldb+p] over p < 8·k8, for rows
// i < 4 of A and j < 3 of B, both contiguous along p: twelve 8-wide
// accumulators, summed across lanes at the end by a tree of horizontal
// adds (the sums of 8 accumulators in one vector), the product by alpha
// rounded before it is added into C.
TEXT ·dotKernel(SB), NOSPLIT, $48-60
	MOVQ k8+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), R8
	SHLQ $2, R8
	MOVQ b+24(FP), DI
	MOVQ ldb+32(FP), R9
	SHLQ $2, R9
	LEAQ (SI)(R8*1), AX
	LEAQ (AX)(R8*1), BX
	LEAQ (BX)(R8*1), R10
	LEAQ (DI)(R9*1), R11
	LEAQ (R11)(R9*1), R12
	XORQ R13, R13
	ZERO12

dotloop:
	VMOVUPS     (DI)(R13*1), Y12
	VMOVUPS     (R11)(R13*1), Y13
	VMOVUPS     (R12)(R13*1), Y14
	VMOVUPS     (SI)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y0
	VFMADD231PS Y13, Y15, Y1
	VFMADD231PS Y14, Y15, Y2
	VMOVUPS     (AX)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y3
	VFMADD231PS Y13, Y15, Y4
	VFMADD231PS Y14, Y15, Y5
	VMOVUPS     (BX)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y6
	VFMADD231PS Y13, Y15, Y7
	VFMADD231PS Y14, Y15, Y8
	VMOVUPS     (R10)(R13*1), Y15
	VFMADD231PS Y12, Y15, Y9
	VFMADD231PS Y13, Y15, Y10
	VFMADD231PS Y14, Y15, Y11
	ADDQ        $32, R13
	DECQ        CX
	JNZ         dotloop

	VHADDPS    Y1, Y0, Y0 // accumulators 0–7: pairs, quads, then the halves
	VHADDPS    Y3, Y2, Y2
	VHADDPS    Y5, Y4, Y4
	VHADDPS    Y7, Y6, Y6
	VHADDPS    Y2, Y0, Y0
	VHADDPS    Y6, Y4, Y4
	VPERM2F128 $0x20, Y4, Y0, Y1
	VPERM2F128 $0x31, Y4, Y0, Y2
	VADDPS     Y2, Y1, Y1
	VMOVUPS    Y1, 0(SP)
	VHADDPS    Y9, Y8, Y8 // accumulators 8–11
	VHADDPS    Y11, Y10, Y10
	VHADDPS    Y10, Y8, Y8
	VEXTRACTF128 $1, Y8, X9
	VADDPS     X9, X8, X8
	VMOVUPS    X8, 32(SP)

	MOVQ         c+40(FP), DX
	MOVQ         ldc+48(FP), R8
	SHLQ         $2, R8
	VBROADCASTSS alpha+56(FP), X15
	LEAQ         (DX)(R8*1), AX
	LEAQ         (DX)(R8*2), BX
	LEAQ         (AX)(R8*2), CX

#define ADDC(K, P, OFF) \
	VMOVSS K(SP), X0; \
	VMULSS X15, X0, X0; \
	VADDSS OFF(P), X0, X0; \
	VMOVSS X0, OFF(P)

	ADDC(0, DX, 0)
	ADDC(4, DX, 4)
	ADDC(8, DX, 8)
	ADDC(12, AX, 0)
	ADDC(16, AX, 4)
	ADDC(20, AX, 8)
	ADDC(24, BX, 0)
	ADDC(28, BX, 4)
	ADDC(32, BX, 8)
	ADDC(36, CX, 0)
	ADDC(40, CX, 4)
	ADDC(44, CX, 8)
	VZEROUPPER
	RET

// func packPanel(dst, a *float32, lda, k8 int)
//
// dst[4p + r] = a[r·lda + p] for rows r < 4 and p < 8·k8: four rows of A
// transposed 8 columns at a time (unpack pairs, then quads, then lanes).
TEXT ·packPanel(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ k8+24(FP), CX
	SHLQ $2, DX
	LEAQ (SI)(DX*2), BX // row 2

packpanel_loop:
	VMOVUPS    (SI), Y0
	VMOVUPS    (SI)(DX*1), Y1
	VMOVUPS    (BX), Y2
	VMOVUPS    (BX)(DX*1), Y3
	VUNPCKLPS  Y1, Y0, Y4  // r0 r1 pairs of columns 0, 1 | 4, 5
	VUNPCKHPS  Y1, Y0, Y5  // 2, 3 | 6, 7
	VUNPCKLPS  Y3, Y2, Y6
	VUNPCKHPS  Y3, Y2, Y7
	VUNPCKLPD  Y6, Y4, Y0  // column 0 | 4
	VUNPCKHPD  Y6, Y4, Y1  // 1 | 5
	VUNPCKLPD  Y7, Y5, Y2  // 2 | 6
	VUNPCKHPD  Y7, Y5, Y3  // 3 | 7
	VPERM2F128 $0x20, Y1, Y0, Y4
	VPERM2F128 $0x20, Y3, Y2, Y5
	VPERM2F128 $0x31, Y1, Y0, Y6
	VPERM2F128 $0x31, Y3, Y2, Y7
	VMOVUPS    Y4, (DI)
	VMOVUPS    Y5, 32(DI)
	VMOVUPS    Y6, 64(DI)
	VMOVUPS    Y7, 96(DI)
	ADDQ       $32, SI
	ADDQ       $32, BX
	ADDQ       $128, DI
	DECQ       CX
	JNZ        packpanel_loop
	VZEROUPPER
	RET

// func packPanelT(dst, a *float32, lda, k int)
//
// dst[4p + r] = a[p·lda + r] for r < 4 and p < k: four floats a row.
TEXT ·packPanelT(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ lda+16(FP), DX
	MOVQ k+24(FP), CX
	SHLQ $2, DX

packpanelt_loop:
	VMOVUPS (SI), X0
	VMOVUPS X0, (DI)
	ADDQ    DX, SI
	ADDQ    $16, DI
	DECQ    CX
	JNZ     packpanelt_loop
	RET

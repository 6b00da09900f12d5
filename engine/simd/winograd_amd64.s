#include "textflag.h"
#include "evenodd_amd64.h"

// Winograd F(2×2, 3×3) transforms, 8 tiles of a tile row at a time (see
// winograd.go): loads of 16 consecutive floats are split into their even
// and odd columns (DEINT), stores interleave two vectors (INTERLEAVE).

// STORE4(A, B, C, D) stores A–D to the four planes from CX on (plane
// stride DX, 3·DX in BX); CX then moves four planes on.
#define STORE4(A, B, C, D) \
	VMOVUPS A, (CX); \
	VMOVUPS B, (CX)(DX*1); \
	VMOVUPS C, (CX)(DX*2); \
	VMOVUPS D, (CX)(BX*1); \
	LEAQ    (CX)(DX*4), CX

// WINO_IN_COLS stores the column combinations c₀−c₂, c₁+c₂, c₂−c₁, c₁−c₃
// of one row of Bᵀ d, whose columns 0–3 are in Y4–Y7 (STORE4).
#define WINO_IN_COLS \
	VSUBPS Y6, Y4, Y0; \
	VADDPS Y6, Y5, Y1; \
	VSUBPS Y5, Y6, Y2; \
	VSUBPS Y7, Y5, Y3; \
	STORE4(Y0, Y1, Y2, Y3)

// WINO_IN(OP, X, Y) writes row i of Bᵀ d B for 8 tiles: c = X OP Y over
// the tile columns (one row of Bᵀ d), then c₀−c₂, c₁+c₂, c₂−c₁, c₁−c₃ to
// the four planes from CX on (plane stride DX, 3·DX in BX); CX then moves
// four planes on.
#define WINO_IN(OP, X, Y) \
	VMOVUPS (X), Y0; \
	VMOVUPS 32(X), Y1; \
	VMOVUPS 8(X), Y2; \
	VMOVUPS 40(X), Y3; \
	VMOVUPS (Y), Y4; \
	VMOVUPS 32(Y), Y5; \
	VMOVUPS 8(Y), Y6; \
	VMOVUPS 40(Y), Y7; \
	OP      Y4, Y0, Y0; \
	OP      Y5, Y1, Y1; \
	OP      Y6, Y2, Y2; \
	OP      Y7, Y3, Y3; \
	DEINT(Y0, Y1, Y4, Y5); \
	DEINT(Y2, Y3, Y6, Y7); \
	WINO_IN_COLS

// func winoInput(v *float32, vs int, x *float32, wp, tw, th int)
TEXT ·winoInput(SB), NOSPLIT, $0-48
	MOVQ v+0(FP), DI
	MOVQ vs+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ wp+24(FP), R8
	MOVQ tw+32(FP), R9
	MOVQ th+40(FP), R10
	SHLQ $2, DX
	LEAQ (DX)(DX*2), BX
	SHLQ $2, R8
	SHLQ $2, R9

winoin_row:
	XORQ AX, AX // 4·t0: the chunk's first tile, in bytes of v

winoin_chunk:
	LEAQ (SI)(AX*2), R11 // padded row 0 at column 2·t0
	LEAQ (R11)(R8*1), R12
	LEAQ (R11)(R8*2), R13
	LEAQ (R12)(R8*2), R14
	LEAQ (DI)(AX*1), CX
	WINO_IN(VSUBPS, R11, R13) // r0 − r2
	WINO_IN(VADDPS, R12, R13) // r1 + r2
	WINO_IN(VSUBPS, R13, R12) // r2 − r1
	WINO_IN(VSUBPS, R12, R14) // r1 − r3
	ADDQ $32, AX
	CMPQ AX, R9
	JLT  winoin_chunk

	LEAQ (SI)(R8*2), SI
	ADDQ R9, DI
	DECQ R10
	JNZ  winoin_row
	VZEROUPPER
	RET

// WINO_OUT_K(A, B) sets A = (m_k + m_{4+k}) + m_{8+k} and B = (m_{4+k} −
// m_{8+k}) − m_{12+k} for the planes from CX on (stride DX, 3·DX in BX);
// CX then moves one plane on.
#define WINO_OUT_K(A, B) \
	VMOVUPS (CX), Y8; \
	VMOVUPS (CX)(DX*4), Y9; \
	VMOVUPS (CX)(DX*8), Y10; \
	VMOVUPS (CX)(BX*4), Y11; \
	VADDPS  Y9, Y8, A; \
	VADDPS  Y10, A, A; \
	VSUBPS  Y10, Y9, B; \
	VSUBPS  Y11, B, B; \
	ADDQ    DX, CX

// EPI(V) adds the bias (Y12) to V, clamps it below at Y13 (0 for a Relu,
// −Inf otherwise; NaN passes) and adds Y14 (+0, which turns a Relu's −0
// into +0, or −0, which changes nothing).
#define EPI(V) \
	VADDPS Y12, V, V; \
	VMAXPS V, Y13, V; \
	VADDPS Y14, V, V

// WINO_OUT_ROW(A0, A1, A2, A3, P) writes the 16 outputs (a₀+a₁)+a₂,
// (a₁−a₂)−a₃ of 8 tiles, with the epilogue, interleaved, at P.
#define WINO_OUT_ROW(A0, A1, A2, A3, P) \
	VADDPS     A1, A0, Y8; \
	VADDPS     A2, Y8, Y8; \
	VSUBPS     A2, A1, Y9; \
	VSUBPS     A3, Y9, Y9; \
	EPI(Y8); \
	EPI(Y9); \
	INTERLEAVE(Y8, Y9, Y8, Y9, Y10, Y11); \
	VMOVUPS    Y8, (P); \
	VMOVUPS    Y9, 32(P)

// func winoOutput(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32)
// Groups of 8 tiles run from the row's last to its first, so that a
// group's spill past the row's end lands where a later store writes.
TEXT ·winoOutput(SB), NOSPLIT, $0-60
	MOVQ         y+0(FP), DI
	MOVQ         ys+8(FP), R8
	MOVQ         m+16(FP), SI
	MOVQ         ms+24(FP), DX
	MOVQ         tw+32(FP), R9
	MOVQ         th+40(FP), R10
	VBROADCASTSS bias+48(FP), Y12
	VBROADCASTSS lo+52(FP), Y13
	VBROADCASTSS fix+56(FP), Y14
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), BX
	SHLQ         $2, R8
	LEAQ         -1(R9), R13
	ANDQ         $-8, R13
	SHLQ         $2, R13 // the last group's first tile, in bytes of m
	SHLQ         $2, R9

winoout_row:
	MOVQ R13, AX

winoout_chunk:
	LEAQ (SI)(AX*1), CX
	WINO_OUT_K(Y0, Y4)
	WINO_OUT_K(Y1, Y5)
	WINO_OUT_K(Y2, Y6)
	WINO_OUT_K(Y3, Y7)
	LEAQ (DI)(AX*2), R11
	LEAQ (R11)(R8*1), R12
	WINO_OUT_ROW(Y0, Y1, Y2, Y3, R11)
	WINO_OUT_ROW(Y4, Y5, Y6, Y7, R12)
	SUBQ $32, AX
	JGE  winoout_chunk

	LEAQ (DI)(R8*2), DI
	ADDQ R9, SI
	DECQ R10
	JNZ  winoout_row
	VZEROUPPER
	RET

// WINO_GRAD_ROW(P, Q) writes p, p+q, p−q, −q to the four planes from CX
// on (stride DX, 3·DX in BX); CX then moves four planes on. Y15 holds the
// sign bit in every lane.
#define WINO_GRAD_ROW(P, Q) \
	VADDPS  Q, P, Y0; \
	VSUBPS  Q, P, Y1; \
	VXORPS  Y15, Q, Y2; \
	STORE4(P, Y0, Y1, Y2)

// func winoGrad(dm *float32, ms int, dy *float32, ys, tw, th int)
TEXT ·winoGrad(SB), NOSPLIT, $0-48
	MOVQ         dm+0(FP), DI
	MOVQ         ms+8(FP), DX
	MOVQ         dy+16(FP), SI
	MOVQ         ys+24(FP), R8
	MOVQ         tw+32(FP), R9
	MOVQ         th+40(FP), R10
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), BX
	SHLQ         $2, R8
	SHLQ         $2, R9
	MOVL         $0x80000000, R11
	MOVQ         R11, X15
	VPBROADCASTD X15, Y15

winograd_row:
	XORQ AX, AX

winograd_chunk:
	LEAQ    (SI)(AX*2), R11 // row 2ty at column 2·t0
	LEAQ    (R11)(R8*1), R12
	VMOVUPS (R11), Y0
	VMOVUPS 32(R11), Y1
	VMOVUPS (R12), Y2
	VMOVUPS 32(R12), Y3
	DEINT(Y0, Y1, Y4, Y5)       // a, b
	DEINT(Y2, Y3, Y6, Y7)       // c, e
	VADDPS  Y6, Y4, Y8          // a + c
	VADDPS  Y7, Y5, Y9          // b + e
	VSUBPS  Y6, Y4, Y10         // a − c
	VSUBPS  Y7, Y5, Y11         // b − e
	VXORPS  Y15, Y6, Y12        // −c
	VXORPS  Y15, Y7, Y13        // −e
	LEAQ    (DI)(AX*1), CX
	WINO_GRAD_ROW(Y4, Y5)
	WINO_GRAD_ROW(Y8, Y9)
	WINO_GRAD_ROW(Y10, Y11)
	WINO_GRAD_ROW(Y12, Y13)
	ADDQ    $32, AX
	CMPQ    AX, R9
	JLT     winograd_chunk

	LEAQ (SI)(R8*2), SI
	ADDQ R9, DI
	DECQ R10
	JNZ  winograd_row
	VZEROUPPER
	RET

// Tile rows of 4 tiles (7×7 and 8×8 outputs) run two at a time, so that
// all 8 lanes hold tiles: lanes 0–3 tile row ty, lanes 4–7 tile row ty+1,
// which are v's 8 columns from 4·ty on. A vector of rows (a, b) takes its
// low half from a row of the first and its high half from the matching
// row of the second; VSHUFPS then splits even and odd columns within each
// half, so no lane crossing is needed.

// HALVES(P, OFF, S, X, Y) loads 4 floats at OFF(P) into the low half of Y
// and the 4 at OFF(P)(S·2) into its high half.
#define HALVES(P, OFF, S, X, Y) \
	VMOVUPS     OFF(P), X; \
	VINSERTF128 $1, OFF(P)(S*2), Y, Y

// WINO_IN4(OP, X, Y) is WINO_IN for a pair of tile rows, rows X and Y of
// the first (the second's two padded rows on, R8 bytes a row).
#define WINO_IN4(OP, X, Y) \
	HALVES(X, 0, R8, X0, Y0); \
	HALVES(X, 16, R8, X1, Y1); \
	HALVES(X, 8, R8, X2, Y2); \
	HALVES(X, 24, R8, X3, Y3); \
	HALVES(Y, 0, R8, X4, Y4); \
	HALVES(Y, 16, R8, X5, Y5); \
	HALVES(Y, 8, R8, X6, Y6); \
	HALVES(Y, 24, R8, X7, Y7); \
	OP      Y4, Y0, Y0; \
	OP      Y5, Y1, Y1; \
	OP      Y6, Y2, Y2; \
	OP      Y7, Y3, Y3; \
	VSHUFPS $0x88, Y1, Y0, Y4; \
	VSHUFPS $0xDD, Y1, Y0, Y5; \
	VSHUFPS $0x88, Y3, Y2, Y6; \
	VSHUFPS $0xDD, Y3, Y2, Y7; \
	WINO_IN_COLS

// func winoInput4(v *float32, vs int, x *float32, wp, pairs int)
TEXT ·winoInput4(SB), NOSPLIT, $0-40
	MOVQ v+0(FP), DI
	MOVQ vs+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ wp+24(FP), R8
	MOVQ pairs+32(FP), R10
	SHLQ $2, DX
	LEAQ (DX)(DX*2), BX
	SHLQ $2, R8

winoin4_pair:
	LEAQ (SI)(R8*1), R12  // padded row 1 of the first tile row
	LEAQ (SI)(R8*2), R13  // row 2
	LEAQ (R12)(R8*2), R14 // row 3
	MOVQ DI, CX
	WINO_IN4(VSUBPS, SI, R13)  // r0 − r2
	WINO_IN4(VADDPS, R12, R13) // r1 + r2
	WINO_IN4(VSUBPS, R13, R12) // r2 − r1
	WINO_IN4(VSUBPS, R12, R14) // r1 − r3
	LEAQ (SI)(R8*4), SI
	ADDQ $32, DI
	DECQ R10
	JNZ  winoin4_pair
	VZEROUPPER
	RET

// func winoGrad4(dm *float32, ms int, dy *float32, ys, pairs int)
TEXT ·winoGrad4(SB), NOSPLIT, $0-40
	MOVQ         dm+0(FP), DI
	MOVQ         ms+8(FP), DX
	MOVQ         dy+16(FP), SI
	MOVQ         ys+24(FP), R8
	MOVQ         pairs+32(FP), R10
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), BX
	SHLQ         $2, R8
	MOVL         $0x80000000, R11
	MOVQ         R11, X15
	VPBROADCASTD X15, Y15

winograd4_pair:
	LEAQ    (SI)(R8*1), R12 // row 2ty+1; the second tile row's are two rows on
	HALVES(SI, 0, R8, X0, Y0)
	HALVES(SI, 16, R8, X1, Y1)
	HALVES(R12, 0, R8, X2, Y2)
	HALVES(R12, 16, R8, X3, Y3)
	VSHUFPS $0x88, Y1, Y0, Y4 // a
	VSHUFPS $0xDD, Y1, Y0, Y5 // b
	VSHUFPS $0x88, Y3, Y2, Y6 // c
	VSHUFPS $0xDD, Y3, Y2, Y7 // e
	VADDPS  Y6, Y4, Y8
	VADDPS  Y7, Y5, Y9
	VSUBPS  Y6, Y4, Y10
	VSUBPS  Y7, Y5, Y11
	VXORPS  Y15, Y6, Y12
	VXORPS  Y15, Y7, Y13
	MOVQ    DI, CX
	WINO_GRAD_ROW(Y4, Y5)
	WINO_GRAD_ROW(Y8, Y9)
	WINO_GRAD_ROW(Y10, Y11)
	WINO_GRAD_ROW(Y12, Y13)
	LEAQ    (SI)(R8*4), SI
	ADDQ    $32, DI
	DECQ    R10
	JNZ     winograd4_pair
	VZEROUPPER
	RET

// OUT4_ROWS(A0, A1, A2, A3, R0, R1, T0, T1) sets R0 and R1 to the 8
// outputs (a₀+a₁)+a₂, (a₁−a₂)−a₃ of the pair's first and second tile row,
// with the epilogue, interleaved; T0 and T1 are clobbered.
#define OUT4_ROWS(A0, A1, A2, A3, R0, R1, T0, T1) \
	VADDPS     A1, A0, R0; \
	VADDPS     A2, R0, R0; \
	VSUBPS     A2, A1, R1; \
	VSUBPS     A3, R1, R1; \
	EPI(R0); \
	EPI(R1); \
	INTERLEAVE(R0, R1, R0, R1, T0, T1)

// func winoOutput4(y *float32, ys int, m *float32, ms, pairs int, bias, lo, fix float32)
// Rows go out in order (2ty, 2ty+1, 2ty+2, 2ty+3), so that each row's
// spill lands on the next.
TEXT ·winoOutput4(SB), NOSPLIT, $0-52
	MOVQ         y+0(FP), DI
	MOVQ         ys+8(FP), R8
	MOVQ         m+16(FP), SI
	MOVQ         ms+24(FP), DX
	MOVQ         pairs+32(FP), R10
	VBROADCASTSS bias+40(FP), Y12
	VBROADCASTSS lo+44(FP), Y13
	VBROADCASTSS fix+48(FP), Y14
	SHLQ         $2, DX
	LEAQ         (DX)(DX*2), BX
	SHLQ         $2, R8

winoout4_pair:
	MOVQ SI, CX
	WINO_OUT_K(Y0, Y4)
	WINO_OUT_K(Y1, Y5)
	WINO_OUT_K(Y2, Y6)
	WINO_OUT_K(Y3, Y7)
	OUT4_ROWS(Y0, Y1, Y2, Y3, Y8, Y9, Y10, Y11)
	OUT4_ROWS(Y4, Y5, Y6, Y7, Y0, Y1, Y10, Y11)
	LEAQ    (DI)(R8*1), R11
	VMOVUPS Y8, (DI)         // row 2ty
	VMOVUPS Y0, (R11)        // 2ty+1
	VMOVUPS Y9, (DI)(R8*2)   // 2ty+2
	VMOVUPS Y1, (R11)(R8*2)  // 2ty+3
	LEAQ    (DI)(R8*4), DI
	ADDQ    $32, SI
	DECQ    R10
	JNZ     winoout4_pair
	VZEROUPPER
	RET

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

// F(4×4, 3×3) (see winograd4.go). A tile row's group of 8 tiles spans 32
// floats of each row: loads of 8 at byte offsets 0, 32, 64, 96 hold tiles
// (0|1), (2|3), (4|5), (6|7), a 128-bit half each. Whole rows are
// combined first; then VPERM2F128 pairs the halves as (0|4), (1|5),
// (2|6), (3|7), and an in-lane 4×4 transpose (F4_COLS) gives the 4
// columns of the 8 tiles, tile t in lane t.

// BROADCAST(C, R, X, Y) sets every lane of Y to the float whose bits are
// C (R and X are clobbered).
#define BROADCAST(C, R, X, Y) \
	MOVL         C, R; \
	MOVQ         R, X; \
	VBROADCASTSS X, Y

// STORE6(A, B, C, D, E, F) stores A–F to the six planes from CX on (plane
// stride DX); CX then moves six planes on.
#define STORE6(A, B, C, D, E, F) \
	VMOVUPS A, (CX); \
	VMOVUPS B, (CX)(DX*1); \
	LEAQ    (CX)(DX*2), CX; \
	VMOVUPS C, (CX); \
	VMOVUPS D, (CX)(DX*1); \
	LEAQ    (CX)(DX*2), CX; \
	VMOVUPS E, (CX); \
	VMOVUPS F, (CX)(DX*1); \
	LEAQ    (CX)(DX*2), CX

// F4_COLS sets Y5–Y8 to columns 0–3 of the 8 tiles whose rows are in
// Y0–Y3 (tiles (0|1), (2|3), (4|5), (6|7)); Y0–Y4 are clobbered.
#define F4_COLS \
	VPERM2F128 $0x20, Y2, Y0, Y5; \
	VPERM2F128 $0x31, Y2, Y0, Y6; \
	VPERM2F128 $0x20, Y3, Y1, Y7; \
	VPERM2F128 $0x31, Y3, Y1, Y8; \
	VUNPCKLPS  Y6, Y5, Y0; \
	VUNPCKHPS  Y6, Y5, Y1; \
	VUNPCKLPS  Y8, Y7, Y2; \
	VUNPCKHPS  Y8, Y7, Y3; \
	VUNPCKLPD  Y2, Y0, Y5; \
	VUNPCKHPD  Y2, Y0, Y6; \
	VUNPCKLPD  Y3, Y1, Y7; \
	VUNPCKHPD  Y3, Y1, Y8

// IN_VERT(OFF, S) combines the six rows at R11–R15, BX (8 floats from
// OFF on) into the six rows of Bᵀ d (winoF4In), stored to the scratch at
// S, S+160, …, S+800. Y14 holds 4.
#define IN_VERT(OFF, S) \
	VMOVUPS      OFF(R11), Y0; \
	VMOVUPS      OFF(R12), Y1; \
	VMOVUPS      OFF(R13), Y2; \
	VMOVUPS      OFF(R14), Y3; \
	VMOVUPS      OFF(R15), Y4; \
	VMOVUPS      OFF(BX), Y5; \
	IN_VERT_SUMS; \
	VMOVUPS      Y8, S(SP); \
	VMOVUPS      Y9, S+160(SP); \
	VMOVUPS      Y10, S+320(SP); \
	VMOVUPS      Y11, S+480(SP); \
	VMOVUPS      Y12, S+640(SP); \
	VMOVUPS      Y13, S+800(SP)

// BT_SUMS(A0, …, A5, O0, …, O5, Q, D) sets O0–O5 to Bᵀ's combinations
// (winoF4In) of A0–A5, with Q and D for q and d (Q then clobbered). Y14
// holds 4. Products by 4 go into FMAs: being exact, they round as the Go
// definition's separate product and sum do (unless the product overflows).
#define BT_SUMS(A0, A1, A2, A3, A4, A5, O0, O1, O2, O3, O4, O5, Q, D) \
	VSUBPS       A2, A4, Q; \
	VSUBPS       A1, A3, D; \
	VADDPS       D, D, D; \
	VSUBPS       A2, A0, O0; \
	VFMADD213PS  Q, Y14, O0; \
	VADDPS       A4, A3, O1; \
	VADDPS       A2, A1, O2; \
	VFNMADD231PS Y14, O2, O1; \
	VSUBPS       A3, A4, O2; \
	VSUBPS       A2, A1, O3; \
	VFMADD231PS  Y14, O3, O2; \
	VADDPS       D, Q, O3; \
	VSUBPS       D, Q, O4; \
	VSUBPS       A3, A5, O5; \
	VSUBPS       A3, A1, Q; \
	VFMADD231PS  Y14, Q, O5

// IN_VERT_SUMS sets Y8–Y13 to Bᵀ's combinations of Y0–Y5.
#define IN_VERT_SUMS BT_SUMS(Y0, Y1, Y2, Y3, Y4, Y5, Y8, Y9, Y10, Y11, Y12, Y13, Y6, Y7)

// IN_HORIZ(S) takes one row of Bᵀ d for the group's tiles and the next
// 8 floats (the scratch at S…S+128), turns it into the columns a₀–a₅ of
// the 8 tiles, and stores Bᵀ's combinations of them (winoF4In) to the six
// planes from CX on. Y14 holds 4.
#define IN_HORIZ(S) \
	VMOVUPS      S(SP), Y0; \
	VMOVUPS      S+32(SP), Y1; \
	VMOVUPS      S+64(SP), Y2; \
	VMOVUPS      S+96(SP), Y3; \
	VMOVUPS      S+128(SP), Y4; \
	VPERM2F128   $0x31, Y2, Y0, Y9;  \ // tiles (1|5)
	VPERM2F128   $0x20, Y3, Y1, Y10; \ // (2|6)
	VPERM2F128   $0x31, Y3, Y1, Y11; \ // (3|7)
	VPERM2F128   $0x20, Y4, Y2, Y12; \ // (4|8)
	F4_COLS; \
	VUNPCKLPS    Y10, Y9, Y0; \
	VUNPCKLPS    Y12, Y11, Y1; \
	VUNPCKLPD    Y1, Y0, Y9; \  // a₄: column 0 of the next tiles
	VUNPCKHPD    Y1, Y0, Y0; \  // a₅
	IN_COMB

// IN_COMB stores Bᵀ's combinations (winoF4In) of a₀–a₅ in Y5–Y9, Y0 to
// the six planes from CX on.
#define IN_COMB \
	BT_SUMS(Y5, Y6, Y7, Y8, Y9, Y0, Y3, Y4, Y10, Y11, Y12, Y13, Y1, Y2); \
	STORE6(Y3, Y4, Y10, Y11, Y12, Y13)

// func winoInputF4(v *float32, vs int, x *float32, wp, tw, th int)
// The scratch holds the group's rows of Bᵀ d: row i, block p of 8 floats
// at 160i + 32p.
TEXT ·winoInputF4(SB), $960-48
	MOVQ         v+0(FP), DI
	MOVQ         vs+8(FP), DX
	MOVQ         x+16(FP), SI
	MOVQ         wp+24(FP), R8
	MOVQ         tw+32(FP), R9
	MOVQ         th+40(FP), R10
	SHLQ         $2, DX
	SHLQ         $2, R8
	SHLQ         $2, R9
	BROADCAST($0x40800000, AX, X14, Y14) // 4

f4in_row:
	XORQ AX, AX // 4·t0: the group's first tile, in bytes of v

f4in_chunk:
	LEAQ (SI)(AX*4), R11 // padded row 0 at column 4·t0
	LEAQ (R11)(R8*1), R12
	LEAQ (R11)(R8*2), R13
	LEAQ (R12)(R8*2), R14
	LEAQ (R11)(R8*4), R15
	LEAQ (R12)(R8*4), BX
	IN_VERT(0, 0)
	IN_VERT(32, 32)
	IN_VERT(64, 64)
	IN_VERT(96, 96)
	IN_VERT(128, 128)
	LEAQ (DI)(AX*1), CX
	IN_HORIZ(0)
	IN_HORIZ(160)
	IN_HORIZ(320)
	IN_HORIZ(480)
	IN_HORIZ(640)
	IN_HORIZ(800)
	ADDQ $32, AX
	CMPQ AX, R9
	JLT  f4in_chunk

	LEAQ (SI)(R8*4), SI
	ADDQ R9, DI
	DECQ R10
	JNZ  f4in_row
	VZEROUPPER
	RET

// OUT_SUMS(B0, B1, B2, B3, B4, B5) sets Y0–Y3 to Aᵀ's combinations
// (winoF4Out) of the six vectors at B0–B5; Y10 holds 2, Y11 4, Y15 8
// (FMAs: see IN_VERT).
#define OUT_SUMS(B0, B1, B2, B3, B4, B5) \
	VMOVUPS B1, Y1; \
	VMOVUPS B3, Y3; \
	VADDPS  B2, Y1, Y6; \ // s₁₂
	VSUBPS  B2, Y1, Y7; \ // d₁₂
	VADDPS  B4, Y3, Y8; \ // s₃₄
	VSUBPS  B4, Y3, Y9; \ // d₃₄
	VADDPS  B0, Y6, Y0; \
	VADDPS  Y8, Y0, Y0; \
	VMOVAPS Y7, Y1; \
	VFMADD231PS Y10, Y9, Y1; \
	VMOVAPS Y6, Y2; \
	VFMADD231PS Y11, Y8, Y2; \
	VFMADD231PS Y15, Y9, Y7; \
	VADDPS  B5, Y7, Y3

// OUT_COL(S0, S1, S2, S3) puts the four rows of Aᵀ M at column k (the
// planes k, 6+k, …, 30+k from CX on; 6 planes in R11, 18 in R12, 30 in
// R14) into the scratch at S0–S3; CX then moves one plane on.
#define OUT_COL(S0, S1, S2, S3) \
	OUT_SUMS((CX), (CX)(R11*1), (CX)(R11*2), (CX)(R12*1), (CX)(R11*4), (CX)(R14*1)); \
	VMOVUPS Y0, S0(SP); \
	VMOVUPS Y1, S1(SP); \
	VMOVUPS Y2, S2(SP); \
	VMOVUPS Y3, S3(SP); \
	ADDQ    DX, CX

// OUT_SETUP(R) sets the output transforms' constants (Y10 = 2, Y11 = 4,
// Y15 = 8; R clobbered), the plane stride DX and row stride R8 in bytes,
// and 6, 18 and 30 planes in R11, R12, R14.
#define OUT_SETUP(R) \
	BROADCAST($0x40000000, R, X10, Y10); \
	BROADCAST($0x40800000, R, X11, Y11); \
	BROADCAST($0x41000000, R, X15, Y15); \
	SHLQ         $2, DX; \
	SHLQ         $2, R8; \
	LEAQ         (DX)(DX*2), R11; \
	SHLQ         $1, R11; \
	LEAQ         (R11)(R11*2), R12; \
	LEAQ         (R11)(R11*4), R14

// OUT_COLS puts Aᵀ M of the group (columns k = 0…5 of the planes from CX
// on) into the scratch, row r column k at 192r + 32k.
#define OUT_COLS \
	OUT_COL(0, 192, 384, 576); \
	OUT_COL(32, 224, 416, 608); \
	OUT_COL(64, 256, 448, 640); \
	OUT_COL(96, 288, 480, 672); \
	OUT_COL(128, 320, 512, 704); \
	OUT_COL(160, 352, 544, 736)

// OUT_ROW(S, P) writes the output row whose Aᵀ M row is at S…S+160 in
// the scratch: Aᵀ's combinations, the epilogue, and back from one vector
// a column to 32 floats in order at P.
#define OUT_ROW(S0, S1, S2, S3, S4, S5, P) \
	OUT_SUMS(S0(SP), S1(SP), S2(SP), S3(SP), S4(SP), S5(SP)); \
	EPI(Y0); \
	EPI(Y1); \
	EPI(Y2); \
	EPI(Y3); \
	VUNPCKLPS  Y1, Y0, Y4; \
	VUNPCKHPS  Y1, Y0, Y5; \
	VUNPCKLPS  Y3, Y2, Y6; \
	VUNPCKHPS  Y3, Y2, Y7; \
	VUNPCKLPD  Y6, Y4, Y0; \ // tiles (0|4)
	VUNPCKHPD  Y6, Y4, Y1; \ // (1|5)
	VUNPCKLPD  Y7, Y5, Y2; \ // (2|6)
	VUNPCKHPD  Y7, Y5, Y3; \ // (3|7)
	VPERM2F128 $0x20, Y1, Y0, Y4; \
	VPERM2F128 $0x20, Y3, Y2, Y5; \
	VPERM2F128 $0x31, Y1, Y0, Y6; \
	VPERM2F128 $0x31, Y3, Y2, Y7; \
	VMOVUPS    Y4, (P); \
	VMOVUPS    Y5, 32(P); \
	VMOVUPS    Y6, 64(P); \
	VMOVUPS    Y7, 96(P)

// func winoOutputF4(y *float32, ys int, m *float32, ms, tw, th int, bias, lo, fix float32)
// Groups of 8 tiles run from the row's last to its first and rows in
// order, so that a spill past a row's end lands where a later store
// writes. The scratch holds Aᵀ M, row r column k at 192r + 32k.
TEXT ·winoOutputF4(SB), $768-60
	MOVQ         y+0(FP), DI
	MOVQ         ys+8(FP), R8
	MOVQ         m+16(FP), SI
	MOVQ         ms+24(FP), DX
	MOVQ         tw+32(FP), R9
	MOVQ         th+40(FP), R10
	VBROADCASTSS bias+48(FP), Y12
	VBROADCASTSS lo+52(FP), Y13
	VBROADCASTSS fix+56(FP), Y14
	OUT_SETUP(AX)
	LEAQ         -1(R9), R13
	ANDQ         $-8, R13
	SHLQ         $2, R13 // the last group's first tile, in bytes of m
	SHLQ         $2, R9

f4out_row:
	MOVQ R13, AX

f4out_chunk:
	LEAQ (SI)(AX*1), CX
	OUT_COLS
	LEAQ (DI)(AX*4), BX
	OUT_ROW(0, 32, 64, 96, 128, 160, BX)
	ADDQ R8, BX
	OUT_ROW(192, 224, 256, 288, 320, 352, BX)
	ADDQ R8, BX
	OUT_ROW(384, 416, 448, 480, 512, 544, BX)
	ADDQ R8, BX
	OUT_ROW(576, 608, 640, 672, 704, 736, BX)
	SUBQ $32, AX
	JGE  f4out_chunk

	LEAQ (DI)(R8*4), DI
	ADDQ R9, SI
	DECQ R10
	JNZ  f4out_row
	VZEROUPPER
	RET

// GRAD_AT(OFF, DST) sets DST to one of A's combinations of the rows y₀–y₃
// at R11–R14, 8 floats from OFF on: SUM(OFF, DST) is the combination.
#define GRAD_ROW(SUM) \
	SUM(0, Y0); \
	SUM(32, Y1); \
	SUM(64, Y2); \
	SUM(96, Y3); \
	F4_COLS; \
	GRAD_COLS

// GRAD_COLS stores A's combinations (winoF4Grad) of the columns c₀–c₃ in
// Y5–Y8 to the six planes from CX on. Y14 holds 4, Y15 2.
#define GRAD_COLS \
	VADDPS Y7, Y5, Y0; \     // e = c₀ + c₂
	VADDPS Y8, Y6, Y1; \     // f = c₁ + c₃
	VADDPS Y1, Y0, Y2; \
	VSUBPS Y1, Y0, Y3; \
	VMULPS Y14, Y7, Y0; \
	VADDPS Y0, Y5, Y0; \     // c₀ + 4c₂
	VMULPS Y14, Y8, Y1; \
	VADDPS Y1, Y6, Y1; \
	VMULPS Y15, Y1, Y1; \    // 2(c₁ + 4c₃)
	VADDPS Y1, Y0, Y4; \
	VSUBPS Y1, Y0, Y9; \
	STORE6(Y5, Y2, Y3, Y4, Y9, Y8)

#define GRAD_Y0(OFF, DST) VMOVUPS OFF(R11), DST
#define GRAD_Y3(OFF, DST) VMOVUPS OFF(R14), DST
#define GRAD_EF(OFF, DST, OP) \
	VMOVUPS OFF(R11), DST; \
	VADDPS  OFF(R13), DST, DST; \
	VMOVUPS OFF(R12), Y9; \
	VADDPS  OFF(R14), Y9, Y9; \
	OP      Y9, DST, DST
#define GRAD_SUM(OFF, DST) GRAD_EF(OFF, DST, VADDPS)
#define GRAD_DIF(OFF, DST) GRAD_EF(OFF, DST, VSUBPS)
#define GRAD_EF4(OFF, DST, OP) \
	VMULPS  OFF(R13), Y14, DST; \
	VADDPS  OFF(R11), DST, DST; \
	VMULPS  OFF(R14), Y14, Y9; \
	VADDPS  OFF(R12), Y9, Y9; \
	VMULPS  Y15, Y9, Y9; \
	OP      Y9, DST, DST
#define GRAD_SUM4(OFF, DST) GRAD_EF4(OFF, DST, VADDPS)
#define GRAD_DIF4(OFF, DST) GRAD_EF4(OFF, DST, VSUBPS)

// func winoGradF4(dm *float32, ms int, dy *float32, ys, tw, th int)
TEXT ·winoGradF4(SB), NOSPLIT, $0-48
	MOVQ         dm+0(FP), DI
	MOVQ         ms+8(FP), DX
	MOVQ         dy+16(FP), SI
	MOVQ         ys+24(FP), R8
	MOVQ         tw+32(FP), R9
	MOVQ         th+40(FP), R10
	SHLQ         $2, DX
	SHLQ         $2, R8
	SHLQ         $2, R9
	BROADCAST($0x40800000, AX, X14, Y14) // 4
	BROADCAST($0x40000000, AX, X15, Y15) // 2

f4grad_row:
	XORQ AX, AX

f4grad_chunk:
	LEAQ (SI)(AX*4), R11 // row 4ty at column 4·t0
	LEAQ (R11)(R8*1), R12
	LEAQ (R11)(R8*2), R13
	LEAQ (R12)(R8*2), R14
	LEAQ (DI)(AX*1), CX
	GRAD_ROW(GRAD_Y0)
	GRAD_ROW(GRAD_SUM)
	GRAD_ROW(GRAD_DIF)
	GRAD_ROW(GRAD_SUM4)
	GRAD_ROW(GRAD_DIF4)
	GRAD_ROW(GRAD_Y3)
	ADDQ $32, AX
	CMPQ AX, R9
	JLT  f4grad_chunk

	LEAQ (SI)(R8*4), SI
	ADDQ R9, DI
	DECQ R10
	JNZ  f4grad_row
	VZEROUPPER
	RET

// F(4×4, 3×3) over tile pairs (see WinoInputF4Pairs): each group of 8
// tiles is 4 pairs of horizontally adjacent tiles at AX, BX, R13, R15
// bytes from the group's base; a load of 8 floats at a pair holds its
// tiles (a|b), so the in-lane 4×4 transpose alone gives the columns of
// tiles a₀ a₁ a₂ a₃ | b₀ b₁ b₂ b₃, the lane order of the group's 8
// transformed columns. No lane crosses a 128-bit half.

// PAIR_COLS(P0, P1, P2, P3) sets Y5–Y8 to columns 0–3 of the pairs'
// tiles from their rows P0–P3 (Y4, Y10–Y12 clobbered).
#define PAIR_COLS(P0, P1, P2, P3) \
	VUNPCKLPS P1, P0, Y4; \
	VUNPCKHPS P1, P0, Y10; \
	VUNPCKLPS P3, P2, Y11; \
	VUNPCKHPS P3, P2, Y12; \
	VUNPCKLPD Y11, Y4, Y5; \
	VUNPCKHPD Y11, Y4, Y6; \
	VUNPCKLPD Y12, Y10, Y7; \
	VUNPCKHPD Y12, Y10, Y8

// PAIR_VERT(P, S) combines the six rows of the pair at P (R8 = wp bytes,
// R9 = 3wp, R10 = 5wp) into the rows of Bᵀ d, stored to the scratch at
// S, S+192, …, S+960: 8 floats for the pair's columns 0–7, then 4 for its
// columns 8–11, so that the 8 floats from S+16 on are its columns 4–11,
// whose columns 0 and 1 of each tile are the pair's tiles' columns 4 and
// 5.
#define PAIR_VERT(P, S) \
	VMOVUPS      (P), Y0; \
	VMOVUPS      (P)(R8*1), Y1; \
	VMOVUPS      (P)(R8*2), Y2; \
	VMOVUPS      (P)(R9*1), Y3; \
	VMOVUPS      (P)(R8*4), Y4; \
	VMOVUPS      (P)(R10*1), Y5; \
	IN_VERT_SUMS; \
	VMOVUPS      Y8, S(SP); \
	VMOVUPS      Y9, S+192(SP); \
	VMOVUPS      Y10, S+384(SP); \
	VMOVUPS      Y11, S+576(SP); \
	VMOVUPS      Y12, S+768(SP); \
	VMOVUPS      Y13, S+960(SP); \
	VMOVUPS      32(P), X0; \
	VMOVUPS      32(P)(R8*1), X1; \
	VMOVUPS      32(P)(R8*2), X2; \
	VMOVUPS      32(P)(R9*1), X3; \
	VMOVUPS      32(P)(R8*4), X4; \
	VMOVUPS      32(P)(R10*1), X5; \
	IN_VERT_SUMS; \
	VMOVUPS      X8, S+32(SP); \
	VMOVUPS      X9, S+224(SP); \
	VMOVUPS      X10, S+416(SP); \
	VMOVUPS      X11, S+608(SP); \
	VMOVUPS      X12, S+800(SP); \
	VMOVUPS      X13, S+992(SP)

// PAIR_IN_HORIZ(S) stores row i of Bᵀ d B (the scratch's row at S) for
// the group's 8 tiles to the six planes from CX on.
#define PAIR_IN_HORIZ(S) \
	VMOVUPS S(SP), Y0; \
	VMOVUPS S+48(SP), Y1; \
	VMOVUPS S+96(SP), Y2; \
	VMOVUPS S+144(SP), Y3; \
	PAIR_COLS(Y0, Y1, Y2, Y3); \
	VMOVUPS S+16(SP), Y0; \
	VMOVUPS S+64(SP), Y1; \
	VMOVUPS S+112(SP), Y2; \
	VMOVUPS S+160(SP), Y3; \
	VUNPCKLPS Y1, Y0, Y4; \
	VUNPCKLPS Y3, Y2, Y10; \
	VUNPCKLPD Y10, Y4, Y9; \ // a₄
	VUNPCKHPD Y10, Y4, Y0; \ // a₅
	IN_COMB

// PAIR_ARGS loads the pairs' offsets (floats) from the array at R11 into
// AX, BX, R13, R15 as bytes.
#define PAIR_ARGS \
	MOVQ (R11), AX; \
	MOVQ 8(R11), BX; \
	MOVQ 16(R11), R13; \
	MOVQ 24(R11), R15; \
	SHLQ $2, AX; \
	SHLQ $2, BX; \
	SHLQ $2, R13; \
	SHLQ $2, R15

// func winoInputF4Pairs(v *float32, vs int, x *float32, wp int, off *[4]int, n, xstep int)
// The scratch holds the group's rows of Bᵀ d: row i at 192i, pair p's
// columns 0–11 at 48p.
TEXT ·winoInputF4Pairs(SB), $1152-56
	MOVQ         v+0(FP), DI
	MOVQ         vs+8(FP), DX
	MOVQ         x+16(FP), SI
	MOVQ         wp+24(FP), R8
	MOVQ         off+32(FP), R11
	PAIR_ARGS
	MOVQ         n+40(FP), CX
	MOVQ         CX, R12 // groups left
	SHLQ         $2, DX
	SHLQ         $2, R8
	LEAQ         (R8)(R8*2), R9
	LEAQ         (R8)(R8*4), R10
	BROADCAST($0x40800000, CX, X14, Y14) // 4

f4pin_group:
	LEAQ (SI)(AX*1), R11
	PAIR_VERT(R11, 0)
	LEAQ (SI)(BX*1), R11
	PAIR_VERT(R11, 48)
	LEAQ (SI)(R13*1), R11
	PAIR_VERT(R11, 96)
	LEAQ (SI)(R15*1), R11
	PAIR_VERT(R11, 144)
	MOVQ DI, CX
	PAIR_IN_HORIZ(0)
	PAIR_IN_HORIZ(192)
	PAIR_IN_HORIZ(384)
	PAIR_IN_HORIZ(576)
	PAIR_IN_HORIZ(768)
	PAIR_IN_HORIZ(960)
	MOVQ xstep+48(FP), CX
	LEAQ (SI)(CX*4), SI
	ADDQ $32, DI
	DECQ R12
	JNZ  f4pin_group
	VZEROUPPER
	RET

// PAIR_OUT_ROW(S0, S1, S2, S3, S4, S5) writes one output row of the
// group's tile pairs (row CX) from the row of Aᵀ M at S0–S5 in the
// scratch: Aᵀ's combinations, the epilogue, and the in-lane transpose
// back to 8 floats a pair.
#define PAIR_OUT_ROW(S0, S1, S2, S3, S4, S5) \
	OUT_SUMS(S0(SP), S1(SP), S2(SP), S3(SP), S4(SP), S5(SP)); \
	EPI(Y0); \
	EPI(Y1); \
	EPI(Y2); \
	EPI(Y3); \
	VUNPCKLPS Y1, Y0, Y4; \
	VUNPCKHPS Y1, Y0, Y5; \
	VUNPCKLPS Y3, Y2, Y6; \
	VUNPCKHPS Y3, Y2, Y7; \
	VUNPCKLPD Y6, Y4, Y0; \
	VUNPCKHPD Y6, Y4, Y1; \
	VUNPCKLPD Y7, Y5, Y2; \
	VUNPCKHPD Y7, Y5, Y3; \
	VMOVUPS   Y0, (CX)(AX*1); \
	VMOVUPS   Y1, (CX)(BX*1); \
	VMOVUPS   Y2, (CX)(R13*1); \
	VMOVUPS   Y3, (CX)(R15*1)

// func winoOutputF4Pairs(y *float32, ys int, m *float32, ms int, off *[4]int, n, ystep int, bias, lo, fix float32)
// The scratch holds Aᵀ M as winoOutputF4's does.
TEXT ·winoOutputF4Pairs(SB), $768-68
	MOVQ         y+0(FP), DI
	MOVQ         ys+8(FP), R8
	MOVQ         m+16(FP), SI
	MOVQ         ms+24(FP), DX
	MOVQ         off+32(FP), R11
	PAIR_ARGS
	MOVQ         n+40(FP), R9
	MOVQ         ystep+48(FP), R10
	VBROADCASTSS bias+56(FP), Y12
	VBROADCASTSS lo+60(FP), Y13
	VBROADCASTSS fix+64(FP), Y14
	SHLQ         $2, R10
	OUT_SETUP(CX)

f4pout_group:
	MOVQ SI, CX
	OUT_COLS
	MOVQ DI, CX
	PAIR_OUT_ROW(0, 32, 64, 96, 128, 160)
	ADDQ R8, CX
	PAIR_OUT_ROW(192, 224, 256, 288, 320, 352)
	ADDQ R8, CX
	PAIR_OUT_ROW(384, 416, 448, 480, 512, 544)
	ADDQ R8, CX
	PAIR_OUT_ROW(576, 608, 640, 672, 704, 736)
	ADDQ R10, DI
	ADDQ $32, SI
	DECQ R9
	JNZ  f4pout_group
	VZEROUPPER
	RET

// GP_* set DST to one of A's combinations (winoF4Grad) of the rows y₀–y₃
// of the pair I bytes into the rows at R11, R12, R14, R10 (as GRAD_ROW's
// sums do for a tile row).
#define GP_Y0(I, DST) VMOVUPS (R11)(I*1), DST
#define GP_Y3(I, DST) VMOVUPS (R10)(I*1), DST
#define GP_EF(I, DST, OP) \
	VMOVUPS (R11)(I*1), DST; \
	VADDPS  (R14)(I*1), DST, DST; \
	VMOVUPS (R12)(I*1), Y9; \
	VADDPS  (R10)(I*1), Y9, Y9; \
	OP      Y9, DST, DST
#define GP_SUM(I, DST) GP_EF(I, DST, VADDPS)
#define GP_DIF(I, DST) GP_EF(I, DST, VSUBPS)
#define GP_EF4(I, DST, OP) \
	VMULPS  (R14)(I*1), Y14, DST; \
	VADDPS  (R11)(I*1), DST, DST; \
	VMULPS  (R10)(I*1), Y14, Y9; \
	VADDPS  (R12)(I*1), Y9, Y9; \
	VMULPS  Y15, Y9, Y9; \
	OP      Y9, DST, DST
#define GP_SUM4(I, DST) GP_EF4(I, DST, VADDPS)
#define GP_DIF4(I, DST) GP_EF4(I, DST, VSUBPS)

// PAIR_GRAD_ROW(SUM) stores row i of A dY Aᵀ for the group's 8 tiles, SUM
// being row i of A, to the six planes from CX on.
#define PAIR_GRAD_ROW(SUM) \
	SUM(AX, Y0); \
	SUM(BX, Y1); \
	SUM(R13, Y2); \
	SUM(R15, Y3); \
	PAIR_COLS(Y0, Y1, Y2, Y3); \
	GRAD_COLS

// func winoGradF4Pairs(dm *float32, ms int, dy *float32, ys int, off *[4]int, n, ystep int)
TEXT ·winoGradF4Pairs(SB), NOSPLIT, $0-56
	MOVQ         dm+0(FP), DI
	MOVQ         ms+8(FP), DX
	MOVQ         dy+16(FP), SI
	MOVQ         ys+24(FP), R8
	MOVQ         off+32(FP), R11
	PAIR_ARGS
	MOVQ         n+40(FP), R9
	SHLQ         $2, DX
	SHLQ         $2, R8
	BROADCAST($0x40800000, CX, X14, Y14) // 4
	BROADCAST($0x40000000, CX, X15, Y15) // 2

f4pgrad_group:
	MOVQ SI, R11              // row 0 of the group's pairs
	LEAQ (SI)(R8*1), R12
	LEAQ (SI)(R8*2), R14
	LEAQ (R12)(R8*2), R10
	MOVQ DI, CX
	PAIR_GRAD_ROW(GP_Y0)
	PAIR_GRAD_ROW(GP_SUM)
	PAIR_GRAD_ROW(GP_DIF)
	PAIR_GRAD_ROW(GP_SUM4)
	PAIR_GRAD_ROW(GP_DIF4)
	PAIR_GRAD_ROW(GP_Y3)
	MOVQ ystep+48(FP), CX
	LEAQ (SI)(CX*4), SI
	ADDQ $32, DI
	DECQ R9
	JNZ  f4pgrad_group
	VZEROUPPER
	RET

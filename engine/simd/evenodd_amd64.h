// Shuffles between interleaved floats and their even and odd ones, shared
// by the Winograd transforms and the even/odd split of vec_amd64.s.
// VSHUFPS picks within 128-bit lanes (0x88 the evens, 0xDD the odds) and
// VPERMPD 0xD8 then puts the lanes' halves in order; the other way,
// VUNPCKLPS/VUNPCKHPS pair within lanes and VPERM2F128 joins the lanes.

// DEINT(LO, HI, E, O) sets E to the even and O to the odd floats of the
// 16 in LO, HI.
#define DEINT(LO, HI, E, O) \
	VSHUFPS $0x88, HI, LO, E; \
	VSHUFPS $0xDD, HI, LO, O; \
	VPERMPD $0xD8, E, E; \
	VPERMPD $0xD8, O, O

// INTERLEAVE(E, O, LO, HI, T0, T1) sets LO, HI to the 16 floats
// e₀ o₀ e₁ o₁ … e₇ o₇ of E and O; T0 and T1 are clobbered (LO and HI may
// be E and O).
#define INTERLEAVE(E, O, LO, HI, T0, T1) \
	VUNPCKLPS  O, E, T0; \
	VUNPCKHPS  O, E, T1; \
	VPERM2F128 $0x20, T1, T0, LO; \
	VPERM2F128 $0x31, T1, T0, HI

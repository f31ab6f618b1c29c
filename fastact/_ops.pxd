# The per-element math of every elementwise kernel: one source for float and
# double (fused types).  The loops that call these live in the generated
# _elementwise.pyx; kernel names match ELEMENTWISE_KERNELS in _registry.py.
#
# Notes
# -----
# - Each kernel K has  K_fwd(x, p0, p1) -> y  and  K_bwd(dy, s, p0, p1) -> dx,
#   where s is what the backward saves (x or y, see the registry) and p0, p1 are
#   the function's parameters as doubles (see Op.select).
# - float32 forwards of the exp-based functions compute in float (fa_math32.h:
#   twice the SIMD lanes of double), carrying rounding errors as float pairs
#   where they would otherwise add up, so they stay within ~0.9 ULP (v3); the
#   erf form of GELU, forward and backward, likewise (fa_phi32.h, <= 1.4 ULP
#   forward).  The float32 backwards compute in float too (a few roundings,
#   well inside the backward tolerance), as do leaky_relu's, leaky_relu6's,
#   elu's and selu's products with a double parameter (fa_mulf_split: one
#   rounding) and hard_sigmoid's and hard_swish's ramps (with an FMA); the
#   other float32 forwards compute in double and round once (~0.5 ULP).
#   Where a float32 kernel has a select that passes nan on, it comes last and
#   on its own (_nan_or).
#   Double kernels use double-double steps where an argument would otherwise
#   lose digits (beta*x in silu/softplus, the tanh-GELU argument, x^2 in GELU).
# - Selects only (`a if c else b` compiles to a C ternary GCC turns into a
#   blend), no early returns, no libm calls but fabs/copysign (inlined): the
#   loops must vectorize.
# - NaN in gives NaN out, for the backward too: piecewise derivatives go
#   through _nanprop so that a NaN saved value is not turned into 0.

from libc.math cimport fabs, copysign, INFINITY
from cython cimport floating

cdef extern from "fa_math.h" nogil:
    double fa_exp(double x)
    double fa_softsign_grad64(double dy, double x)
    double fa_exp_dd(double hi, double lo)
    double fa_expneg(double x)
    double fa_expneg_dd(double hi, double lo)
    double fa_expneg_s64(double x)
    double fa_expneg_core_s64(double xc, double lo)
    double fa_expneg_dd_s64(double hi, double lo)
    double FAR "FA_EXP_FAR"
    double TWO_64 "0x1p64"
    double TWO_M64 "0x1p-64"
    double TWO_M26 "0x1p-26"       # celu: x itself where |x| < alpha 2^-26 (float), 2^-55 (double)
    double TWO_M55 "0x1p-55"
    double fa_expm1(double x)
    double fa_expm1_nonpos(double x)
    double fa_celu_neg64(double x, double alpha)
    double fa_celu_neg_grad64(double x, double alpha)
    double fa_log1p01(double t)
    void fa_two_prod(double a, double b, double *p, double *e)
    double fa_div6(double a)
    double fa_mul_add1(double a, double b, double c)
    double fa_div_dd(double x, double alpha, double *lo)
    void fa_two_sum(double a, double b, double *s, double *e)
    void fa_sigmoid_pair(double v, double *sp, double *sm, double *e)

cdef extern from "fa_math32.h" nogil:
    float fa_expn2(float v, float vl, float *yl)
    float fa_expn2_pair(float v, float *yl)
    float fa_expn2_lean(float v)
    float fa_expm1f(float x)
    float fa_log1pf01_dd(float t, float tlo)
    float fa_log1pf01_parts(float t, float tlo, float *w)
    float fa_tanhf(float x)
    float fa_sigmoidf(float v)
    void fa_sigmoid_pm2f(float vh, float vl, float *sp, float *sm)
    float fa_one_minus_sqf(float y)
    float fa_mul_sig_denf(float m, float v, float vl)
    float fa_siluf(float x)
    float fa_silu_gradf(float x)
    float fa_selectf(int c, float a, float b)
    float fa_gelu_tanhf(float x)
    float fa_gelu_tanh_gradf(float x)
    float TWO_M32F "0x1p-32f"      # undoes fa_expn2's scaling
    float ONEF "1.0f"               # float constants: a Python literal is a C double
    float ZEROF "0.0f"
    float THREEF "3.0f"
    float FOURF "4.0f"
    float EXPN2_CLAMPF "104.0f"     # fa_expn2's clamp: exp(-104) 2^32 below it
    void fa_splitf(double c, float *hi, float *lo)
    void fa_splitf_trunc(double c, float *hi, float *lo)
    float fa_mulf_split(float x, float hi, float lo)
    float fa_float_down(double v)
    float fa_softsignf(float x)
    float fa_softsign_gradf(float dy, float x)
    float fa_hard_sigmoid_rampf(float x)
    float fa_hard_swish_midf(float x)
    float fa_mulf_split_pair(float xh, float xl, float hi, float lo)
    float fa_float_up(double v)
    void fa_mulf_split2(float x, float hi, float lo, float *vh, float *vl)
    float FA_FMAF(float a, float b, float c)   # one rounding where the target has an FMA
    float fabsf(float x)

cdef extern from "fa_phi32.h" nogil:
    float fa_gelu_f32(float x)
    float fa_gelu_grad_f32(float x)

cdef extern from "fa_special.h" nogil:
    double fa_gelu64(double x)
    double fa_gelu_grad64(double x)
    void fa_gelu_tanh_arg64(double x, double *wh, double *wl)
    double SELU_LAMBDA "FA_SELU_LAMBDA"
    double SELU_LAMBDA_ALPHA "FA_SELU_LAMBDA_ALPHA"
    double GELU_K1 "FA_GELU_K1"
    double GELU_K3 "FA_GELU_K3"
    double INV_SQRT_2PI "FA_INV_SQRT_2PI"


cdef inline double _nanprop(double s, double d) noexcept nogil:
    return s if s != s else d


cdef inline floating _nan_or(floating s, floating v) noexcept nogil:
    # v, or s where s is nan: the last select of a backward, on its own
    # (GCC merges a nested `s if s != s else (.. if .. else ..)` into several
    # masks: leaky_relu's backward took 9 vector operations instead of 5)
    return v if s == s else s


cdef inline double _exp_neg_abs_prod_s64(double x, double beta, double *vh, double *vl) noexcept nogil:
    # exp(-|beta x|) 2^64 for the float64 kernels (fa_math.h's _s64 forms:
    # normal where the exp is subnormal), with beta x kept exact (a rounded
    # argument would cost |beta x| ulps in the tails): *vh + *vl = beta x (vl
    # may be NULL where the caller needs only vh)
    cdef double h, l
    if beta == 1.0:
        # x itself (silu_unit, softplus_unit: a constant, so no product error
        # to carry; 6 of silu's ~55 vector instructions)
        vh[0] = x
        if vl != NULL:
            vl[0] = 0.0
        return fa_expneg_s64(-fabs(x))
    fa_two_prod(beta, x, &h, &l)
    vh[0] = h
    if vl != NULL:
        vl[0] = l
    return fa_expneg_dd_s64(-fabs(h), -l if h >= 0 else l)


cdef inline double _far_scale(double v, double e) noexcept nogil:
    # 2^-64 where v < FAR and e (the exp of v, unscaled) is not 0, else 1:
    # the factor that takes a result computed with the 2^64-scaled exp back
    cdef double k = TWO_M64 if v < FAR else 1.0
    return 1.0 if e == 0.0 else k


cdef inline double _mul_sigma_s64(double m, double v, double es) noexcept nogil:
    # m sigma(v) = m w / (1 + e) from es = e 2^64, e = exp(-|v|), w = 1 or e
    # (silu, the tanh form of GELU); beyond FAR m (e 2^64) / ((1 + e) 2^64),
    # rounded once by the division; w == 0: sigma underflowed, the limit is a
    # zero of m's sign (silu(-inf) = -0)
    cdef double e = es * TWO_M64
    cdef double w = 1.0 if v >= 0 else e
    cdef bint far = v < FAR
    cdef double ws = es if far else w
    cdef double k = TWO_64 if far else 1.0
    return copysign(0.0, m) if w == 0.0 else (m * ws) / ((1.0 + e) * k)


cdef inline double _sigma_pm_s64(double v, double es, double *sm, double *k) noexcept nogil:
    # sigma(v) / *k and *sm = sigma(-v) from es = e 2^64, e = exp(-|v|), in
    # one division, for the backwards of silu and the tanh form of GELU:
    # *k = _far_scale(v, e), so that beyond FAR sigma(v) comes as es d = sigma(v)
    # 2^64 and the derivative is scaled back by *k after its last product
    cdef double e = es * TWO_M64
    cdef double d = 1.0 / (1.0 + e)
    cdef double sp = d if v >= 0 else e * d
    sm[0] = e * d if v >= 0 else d
    cdef double kk = _far_scale(v, e)
    k[0] = kk
    return es * d if kk != 1.0 else sp


cdef inline double _exp_neg_abs_prod(double x, double beta, double *vh, double *vl) noexcept nogil:
    # the same exp, unscaled (bit for bit fa_expneg's)
    return _exp_neg_abs_prod_s64(x, beta, vh, vl) * TWO_M64


# Below FAR = -600 (fa_math.h's FA_EXP_FAR) the float64 silu, mish, GELU's tanh form and
# softplus take their exp scaled by 2^64 (_exp_neg_abs_prod_s64) and scale
# the result by 2^-64 after their last product: x e^x stays normal down to x
# = -715 where e^x is subnormal from -708.4 on, and e^(beta x) / beta further
# still for beta < 1 (the subnormal exp cost up to 34000 ULP).  Above it they
# keep their bits.


cdef inline void _beta_x(float x, double beta, float *vh, float *vl) noexcept nogil:
    # beta x as a float pair (fa_mulf_split2: beta split in two floats, the
    # product exact); beta = 1 gives x itself
    cdef float bh, bl
    if beta == 1.0:
        vh[0] = x
        vl[0] = 0
    else:
        fa_splitf(beta, &bh, &bl)
        fa_mulf_split2(x, bh, bl, vh, vl)


# ---------------------------------------------------------------- sigmoid
cdef inline floating sigmoid_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double sp, sm, e
    if floating is float:
        return fa_sigmoidf(x)
    fa_sigmoid_pair(x, &sp, &sm, &e)
    return <floating>sp

cdef inline floating sigmoid_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    cdef double yd = y
    if floating is float:
        return dy * (y * (ONEF - y))    # 1 - y exact for y >= 1/2: ~1.5 ULP
    return <floating>(<double>dy * (yd * (1.0 - yd)))

# ------------------------------------------------------------------- tanh
cdef inline floating tanh_fwd(floating x, double p0, double p1) noexcept nogil:
    # tanh(x) = 2 sigma(2x) - 1 = -expm1(-2|x|) / (2 + expm1(-2|x|)), sign of x
    if floating is float:
        return fa_tanhf(x)
    cdef double em = fa_expm1_nonpos(-2.0 * fabs(<double>x))
    return <floating>copysign(-em / (2.0 + em), <double>x)

cdef inline floating tanh_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    cdef double yd = y
    if floating is float:
        return dy * fa_one_minus_sqf(y)
    return <floating>(<double>dy * ((1.0 - yd) * (1.0 + yd)))

# ------------------------------------------------------------------- relu
cdef inline floating relu_fwd(floating x, double p0, double p1) noexcept nogil:
    return 0 if x <= 0 else x

cdef inline floating relu_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    # exact in the array's own type: dy * 1 or dy * 0
    return _nan_or(y, dy if y > 0 else dy * 0)

# ------------------------------------------------------------- leaky_relu
cdef inline floating leaky_relu_fwd(floating x, double alpha, double p1) noexcept nogil:
    cdef float ah, al
    if floating is float:
        # alpha x rounded once in float (as leaky_relu6), without the double
        # form's conversions: 0.56 -> 0.22-0.26 ns/element; -0 and nan are x itself
        fa_splitf(alpha, &ah, &al)
        return fa_mulf_split(x, ah, al) if x < 0 else x
    return x if x > 0 else <floating>(alpha * <double>x)

cdef inline floating leaky_relu_bwd(floating dy, floating s, double alpha, double p1) noexcept nogil:
    # dy alpha in the array's type (alpha rounded to float for float32: within 1 ULP)
    return _nan_or(s, dy if s > 0 else dy * <floating>alpha)

# ------------------------------------------------------------------ relu6
cdef inline floating relu6_fwd(floating x, double p0, double p1) noexcept nogil:
    return 0 if x <= 0 else (6 if x >= 6 else x)

cdef inline floating relu6_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    return _nan_or(y, dy if (y > 0) & (y < 6) else dy * 0)

# ------------------------------------------------------------ leaky_relu6
cdef inline floating leaky_relu6_fwd(floating x, double alpha, double p1) noexcept nogil:
    cdef double xd = x
    cdef float ah, al, af
    if floating is float:
        # alpha x rounded once in float (alpha split in two floats; in double
        # without an FMA), then the selects on the rounded product (rounding
        # keeps alpha x on its side of x and of 6), without float32's mask
        # conversions: 0.94 -> 0.43 ns/element.  The product is the double
        # form's but where alpha's low part times x underflows (|alpha x| <
        # 1e-31 or so), where it is within 1 ULP
        fa_splitf(alpha, &ah, &al)
        af = fa_mulf_split(x, ah, al)
        af = af if af > x else x
        return 6 if af >= 6 else af
    cdef double ax = alpha * xd
    cdef double m = ax if ax > xd else xd
    return <floating>(6.0 if m >= 6.0 else m)

cdef inline floating leaky_relu6_bwd(floating dy, floating x, double alpha, double p1) noexcept nogil:
    # the selects in a row (_nan_or); dy alpha in the array's type (alpha
    # rounded to float for float32: within 1 ULP)
    cdef floating v = dy if x > 0 else dy * <floating>alpha
    v = dy * 0 if x >= 6 else v
    return _nan_or(x, v)

# --------------------------------------------------------------- hardtanh
cdef inline floating hardtanh_fwd(floating x, double lo, double hi) noexcept nogil:
    # in x's own type against the bounds rounded to it: the results of the
    # comparison in double (no value of x's type lies strictly between a bound
    # and its rounding); min then max in the forms x86's minps/maxps compute
    # (NaN x stays x; lo <= hi makes this the clip)
    cdef floating l = <floating>lo
    cdef floating h = <floating>hi
    cdef floating t = h if h < x else x
    return l if l > t else t

cdef inline floating hardtanh_bwd(floating dy, floating x, double lo, double hi) noexcept nogil:
    cdef double xd = x
    cdef float tl, th
    if floating is float:
        # the comparisons with the bounds, exact in float (fa_float_down/up)
        tl = fa_float_down(lo)
        th = fa_float_up(hi)
        return _nan_or(x, dy if (x > tl) & (x < th) else dy * 0)
    return <floating>_nanprop(xd, <double>dy * (1.0 if (xd > lo) & (xd < hi) else 0.0))

# ------------------------------------------------------------------- silu
cdef inline floating silu_fwd(floating x, double beta, double p1) noexcept nogil:
    # x sigma(beta x)
    cdef double v
    cdef float vh, vl
    if floating is float:
        _beta_x(x, beta, &vh, &vl)
        return fa_mul_sig_denf(x, vh, vl)       # fa_math32.h: one division
    cdef double es = _exp_neg_abs_prod_s64(x, beta, &v, NULL)
    return <floating>_mul_sigma_s64(x, v, es)

cdef inline floating silu_bwd(floating dy, floating x, double beta, double p1) noexcept nogil:
    # sigma(v) (1 + v sigma(-v)), v = beta x
    cdef double v
    cdef float vh, vl, spf, smf
    if floating is float:
        _beta_x(x, beta, &vh, &vl)
        fa_sigmoid_pm2f(vh, vl, &spf, &smf)
        # |v| > 104: the limits 1 and 0 (spf * v is 0 * inf at v = -inf); nan stays
        return dy * (spf * (ONEF + vh * smf) if not fabsf(vh) > 104 else (ONEF if vh > 0 else ZEROF))
    cdef double sm, k
    cdef double es = _exp_neg_abs_prod_s64(x, beta, &v, NULL)
    cdef double sp = _sigma_pm_s64(v, es, &sm, &k)
    # v clamped to +-1000 (two selects, a max and a min; nan passes) instead of
    # selecting the limits where e underflows: sp (1 + v sm) is then 1 or a
    # zero of the true sign there, never 0 * inf (66 -> ~52 vector instructions)
    cdef double vc = -1000.0 if v < -1000.0 else v
    vc = 1000.0 if vc > 1000.0 else vc
    return <floating>(<double>dy * ((sp * (1.0 + vc * sm)) * k))

# silu at beta = 1 (the usual call): the same math with beta a constant, so
# the loop carries neither beta x's split product nor a select on beta
cdef inline floating silu_unit_fwd(floating x, double p0, double p1) noexcept nogil:
    if floating is float:
        return fa_siluf(x)                      # beta x = x: no low part to carry
    return silu_fwd(x, 1.0, p1)

cdef inline floating silu_unit_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    if floating is float:
        return dy * fa_silu_gradf(x)            # fa_math32.h: fa_sigmoidf's pieces, one division
    return silu_bwd(dy, x, 1.0, p1)

# their tame forms (TAME_LOOPS: float64, |x| <= 600, no nan): exp(-|x|) is
# normal there (x >= FAR: no 2^64 scaling), sigma never underflows (w != 0)
# and |x| < 1000 needs no clamp, so these are silu_fwd's / silu_bwd's
# operations on their other paths removed, the same bits
cdef inline floating silu_unit_tame_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double e = fa_expneg_core_s64(-fabs(x), -0.0) * TWO_M64
    cdef double w = 1.0 if x >= 0 else e
    return <floating>((x * w) / (1.0 + e))

cdef inline floating silu_unit_tame_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    cdef double e = fa_expneg_core_s64(-fabs(x), -0.0) * TWO_M64
    cdef double d = 1.0 / (1.0 + e)
    cdef double sp = d if x >= 0 else e * d
    cdef double sm = e * d if x >= 0 else d
    return <floating>(<double>dy * (sp * (1.0 + x * sm)))

# silu at beta = 0: x sigma(0) = x / 2 (exact but where x / 2 is subnormal)
# and its derivative 1/2, also at x = +-inf, where the general kernel's beta x
# would be 0 * inf = nan; nan stays nan
cdef inline floating silu_half_fwd(floating x, double p0, double p1) noexcept nogil:
    return x * <floating>0.5

cdef inline floating silu_half_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    return _nan_or(x, dy * <floating>0.5)

# ----------------------------------------------------------- hard_sigmoid
cdef inline floating hard_sigmoid_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double xd = x
    cdef float v
    if floating is float:
        # the ramp rounded once in float (fa_math32.h), the selects in float
        # (float32's mask conversions cost more than the arithmetic)
        v = fa_hard_sigmoid_rampf(x)
        # two selects in a row, not nested: GCC then masks once per bound (16
        # vector operations per 8 elements instead of 19)
        v = 1 if x >= 3 else v
        return 0 if x <= -3 else v
    # fa_div6: the division's bits by three FMAs (a division was 40% of the
    # float64 call: 1e6 on one thread 316 us against relu's 229)
    return <floating>(0.0 if xd <= -3.0 else (1.0 if xd >= 3.0 else fa_div6(xd + 3.0)))

cdef inline floating hard_sigmoid_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    # dy times 1/6 rounded to the array's type (within 1 ULP; float32's product
    # had gone through double, float64's was a division: 1.0 ns/element against
    # torch's 0.85), the nan select last and on its own (_nan_or)
    return _nan_or(x, dy * <floating>(1.0 / 6.0) if (x > -3) & (x < 3) else dy * 0)

# ------------------------------------------------------------- hard_swish
cdef inline floating hard_swish_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double xd = x
    cdef float v
    if floating is float:
        # rounded once in float with an FMA, in double without (fa_math32.h)
        v = fa_hard_swish_midf(x)
        v = x if x >= 3 else v           # as hard_sigmoid_fwd: 21 -> 16 operations
        return 0 if x <= -3 else v
    return <floating>(0.0 if xd <= -3.0 else (xd if xd >= 3.0 else fa_div6(xd * (xd + 3.0))))

cdef inline floating hard_swish_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    # 0 up to -3, (2x + 3)/6 inside (-3, 3), 1 from 3 on: hard_sigmoid's open
    # interval (SPEC), and torch's values at the kinks
    cdef double xd = x
    cdef float v
    if floating is float:
        # in float: 2x + 3 is exact where it nears 0 (Sterbenz), so within 2 ULP
        v = (dy * (x + x + THREEF)) * <float>(1.0 / 6.0)
        v = v if x < 3 else dy
        v = dy * 0 if x <= -3 else v
        return _nan_or(x, v)
    cdef double d = 0.0 if xd <= -3.0 else (fa_div6(2.0 * xd + 3.0) if xd < 3.0 else 1.0)
    return <floating>_nanprop(xd, <double>dy * d)

# --------------------------------------------------------------- softplus
cdef inline bint _above_f(float v, double t) noexcept nogil:
    # v > t without converting v to double (two conversions and a mask pack
    # per 8 lanes): t rounded to float is tf, and if it rounded up no float
    # lies strictly between t and tf.  GCC hoists tf and up out of the loop;
    # fa_float_down(t) there leaves softplus's backward scalar.  Backward
    # float32 1e5 on one thread: 3.53-3.59 -> 3.33-3.36 ns/element
    # (v > tf) | (up & (v == tf)), not `(v >= tf) if up else (v > tf)`: with
    # AVX-512 masks GCC builds that select lane by lane in scalar registers
    # (softplus float32 backward 0.93 -> 0.58 ns/element, v4)
    cdef float tf = <float>t
    cdef bint up = <double>tf > t
    return (v > tf) | (up & (v == tf))

cdef inline floating softplus_fwd(floating x, double beta, double threshold) noexcept nogil:
    # (max(v, 0) + log1p(exp(-|v|))) / beta, v = beta x; x itself above threshold
    cdef double v, vl, L, r
    cdef double e
    cdef float fh, fl, ef, el, sh, sw, a, b, c, h, t, bh, bl, rf, kf
    cdef bint tiny
    if floating is float:
        # log1p's two parts, max(v, 0) added as a float pair, and the product
        # with 1/beta (a float pair) rounded once where there is an FMA (the
        # sum, a division by beta's high part and its correction, each
        # rounded: up to 2.65 ULP); where e = exp(-|v|) < 2^-30 log1p(e) = e,
        # taken as fa_expn2's 2^32-scaled pair and scaled back last, so that
        # e / beta is right where e is subnormal in float and the quotient
        # is not (beta < 1: 47 ULP at beta = 0.01); beyond fa_expn2's clamp 0.
        # 0.79 ULP (v4), 1.75 (baseline); 1.46 against 1.27 ns/element
        _beta_x(x, beta, &fh, &fl)
        fa_splitf(1.0 / beta, &bh, &bl)       # hoisted: 1/beta = bh + bl
        ef = fa_expn2(-fabsf(fh), -fl if fh >= 0 else fl, &el)    # exp(-|v|) 2^32
        sh = fa_log1pf01_parts(ef * TWO_M32F, el * TWO_M32F, &sw)   # log1p(e) = 2 (sh + sw)
        # (float constants: a double one converts every lane); v > 0 keeps the
        # pair: there max(v, 0) = v is the result and log1p(e) below its ulp
        tiny = ef < (FOURF if fh <= ZEROF else ZEROF)
        # (max(v, 0) + log1p(e)) = a + b as a float pair (2Sum), or e 2^32
        a = fh if fh > 0 else ZEROF
        b = sh + sh          # (not 2 * sh: Cython writes 2.0, a double)
        h = a + b
        t = h - a
        c = ((a - (h - t)) + (b - t)) + ((sw + sw) + (fl if fh > 0 else ZEROF))
        h = ef if tiny else h
        c = el if tiny else c
        # (h + c) (bh + bl), rounded once where an FMA is, then 2^-32 for e
        # (0 beyond fa_expn2's clamp, where e is not exp(-|v|))
        rf = FA_FMAF(h, bh, FA_FMAF(c, bh, h * bl))
        kf = (ZEROF if fabsf(fh) > EXPN2_CLAMPF else TWO_M32F) if tiny else ONEF
        return x if _above_f(fh, threshold) else rf * kf
    cdef double es = _exp_neg_abs_prod_s64(x, beta, &v, &vl)
    e = es * TWO_M64
    L = fa_log1p01(e)
    # beyond FAR (e not 0): log1p(e) = e, taken as es, the quotient scaled back
    cdef double k = _far_scale(v, e)
    r = (v + (vl + L) if v > 0 else (es if k != 1.0 else L)) / beta
    r = r * k
    return x if v > threshold else <floating>r

cdef inline floating softplus_bwd(floating dy, floating x, double beta, double threshold) noexcept nogil:
    cdef double v
    cdef float vh, vl
    if floating is float:
        # dy sigma(v) as silu's forward takes x sigma(v): one division, dy
        # inside it (fa_sigmoid_pm2f's ~4 ULP sigma gave 3.06 ULP at beta = 2.5);
        # a bitwise select, not a merge-masked division (softplus_unit_bwd);
        # x = nan is clamped inside and dy = nan lost below v = -110 (a zero
        # there): the last selects pass them
        _beta_x(x, beta, &vh, &vl)
        return _nan_or(dy, _nan_or(x, fa_selectf(_above_f(vh, threshold), dy, fa_mul_sig_denf(dy, vh, vl))))
    cdef double e = _exp_neg_abs_prod(x, beta, &v, NULL)
    cdef double sp = (1.0 if v >= 0 else e) / (1.0 + e)
    return <floating>(<double>dy * (1.0 if v > threshold else sp))

# softplus at beta = 1 (the default): beta a constant, as silu_unit
cdef inline floating softplus_unit_fwd(floating x, double p0, double threshold) noexcept nogil:
    cdef float ef, el, Lf
    cdef double L
    if floating is float:
        # x + log1p(exp(-|x|)) in float, rounded once after log1p's error (no
        # division: <= 1.2 ULP); e subnormal gives a subnormal result here.
        # max(x, 0) + L, as log_sigmoid's min(x, 0) - L: the same bits as
        # selecting between x + L and L, 2% faster (v4), 5% (v3), 10%
        # (baseline)
        ef = fa_expn2(-fabsf(x), 0.0, &el)     # exp(-|x|) 2^32
        Lf = fa_log1pf01_dd(ef * TWO_M32F, el * TWO_M32F)
        return x if _above_f(x, threshold) else (x if x > 0 else ZEROF) + Lf
    # in float64 as well: log1p(e) is e itself where e = exp(x) is tiny, and
    # that is the result for x < 0, subnormal with it, so softplus_fwd's
    # scaled path (for e / beta) has nothing to do at beta = 1 (the same
    # bits without its selects: 2.96 -> 2.13 ns/element for the loop alone,
    # one thread, v4)
    L = fa_log1p01(fa_expneg(-fabs(<double>x)))
    return x if x > threshold else <floating>(x + L if x > 0 else L)

cdef inline floating softplus_unit_bwd(floating dy, floating x, double p0, double threshold) noexcept nogil:
    if floating is float:
        # sigma(x): the float32 sigmoid forward (one division, <= 1.7 ULP;
        # NaN and the limits its own).  A bitwise select: as a ternary GCC
        # merge-masked the division on the threshold, chaining each vector's
        # division to the last one's (0.85 instead of 0.41 ns/element, v4)
        return dy * fa_selectf(_above_f(x, threshold), ONEF, fa_sigmoidf(x))
    return softplus_bwd(dy, x, 1.0, threshold)

# ------------------------------------------------------------ gelu (erf)
cdef inline floating gelu_fwd(floating x, double p0, double p1) noexcept nogil:
    if floating is float:
        return fa_gelu_f32(x)                   # fa_phi32.h: in float, <= 1.4 ULP
    return <floating>fa_gelu64(<double>x)      # fa_special.h

cdef inline floating gelu_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    # Phi(x) + x phi(x)
    if floating is float:
        return dy * fa_gelu_grad_f32(x)
    return <floating>(<double>dy * fa_gelu_grad64(<double>x))

# ------------------------------------------------------------ gelu (tanh)
cdef inline double _gelu_tanh_e_s64(double x, double *w) noexcept nogil:
    # e 2^64, e = exp(-|w|), w = 2 sqrt(2/pi) (x + 0.044715 x^3) as a
    # double-double, so 0.5 (1 + tanh(u)) = sigma(w) (scaled as
    # _exp_neg_abs_prod_s64's)
    cdef double wh, wl
    fa_gelu_tanh_arg64(x, &wh, &wl)
    w[0] = wh
    return fa_expneg_dd_s64(-fabs(wh), -wl if wh >= 0 else wl)

cdef inline floating gelu_tanh_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double w
    if floating is float:
        return fa_gelu_tanhf(x)                 # fa_math32.h: one division, < 2 ULP
    cdef double es = _gelu_tanh_e_s64(x, &w)
    return <floating>_mul_sigma_s64(x, w, es)

cdef inline floating gelu_tanh_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    # sigma(w) + x w' sigma(w) sigma(-w), w' = K1 + 3 K3 x^2
    cdef double w, xd = x
    if floating is float:
        return dy * fa_gelu_tanh_gradf(x)       # fa_math32.h: fa_sigmoidf's pieces, one division
    cdef double sm, k
    cdef double es = _gelu_tanh_e_s64(x, &w)
    cdef double sp = _sigma_pm_s64(w, es, &sm, &k)
    # x clamped to +-100 (as w's): where e underflows the sum is then 1 or a
    # zero of the true sign, never 0 * inf, with no select of the limits
    xd = -100.0 if xd < -100.0 else xd
    xd = 100.0 if xd > 100.0 else xd
    cdef double dw = GELU_K1 + 3.0 * GELU_K3 * xd * xd
    return <floating>(<double>dy * ((sp + xd * dw * sp * sm) * k))

# -------------------------------------------------------------------- elu
# y + c (c = ah + al, split by fa_splitf) for a float32 y = c expm1(x) <= 0,
# elu's and selu's derivative from their output: y + ah is exact where it
# nears 0 (Sterbenz), then al; within 2 ULP.  Where the forward saturated, at
# y = -RN(c) (x = -inf, or below about -17, where c e^x is under y's
# rounding), the derivative is 0: (y + ah) + al there is c - RN(c), a
# derivative off 0 at -inf and negative wherever c rounds up.  NaN stays NaN.
cdef inline float _sat_plusf(float y, float ah, float al) noexcept nogil:
    return <float>0.0 if y <= -(ah + al) else (y + ah) + al

cdef inline floating elu_fwd(floating x, double alpha, double p1) noexcept nogil:
    cdef float ah, al
    if floating is float:
        fa_splitf(alpha, &ah, &al)
        return x if x > 0 else fa_mulf_split(fa_expm1f(x), ah, al)
    # fa_expm1_nonpos (no selects inside; nan goes through it) of min(x, 0),
    # which keeps the unused lanes' exps in range, with x's sign: expm1(-0) =
    # -0 (alpha = -0.0 makes the zeros' signs show)
    return x if x > 0 else <floating>(alpha * copysign(fa_expm1_nonpos(0.0 if x >= 0 else <double>x), <double>x))

cdef inline floating elu_bwd(floating dy, floating y, double alpha, double p1) noexcept nogil:
    cdef double yd = y
    cdef float ah, al
    if floating is float:
        fa_splitf(alpha, &ah, &al)
        return dy if y > 0 else dy * _sat_plusf(y, ah, al)
    return <floating>(<double>dy * (1.0 if yd > 0 else yd + alpha))

# elu at alpha = 1 (the default): alpha a constant, as silu_unit (its
# product and split fold away); celu_unit's forward too
cdef inline floating elu_unit_fwd(floating x, double p0, double p1) noexcept nogil:
    return elu_fwd(x, 1.0, p1)

cdef inline floating elu_unit_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    return elu_bwd(dy, y, 1.0, p1)

# ------------------------------------------------------------------- selu
cdef inline floating selu_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef float lh, ll, ah, al
    if floating is float:
        fa_splitf(SELU_LAMBDA, &lh, &ll)
        fa_splitf(SELU_LAMBDA_ALPHA, &ah, &al)
        return fa_mulf_split(x, lh, ll) if x > 0 else fa_mulf_split(fa_expm1f(x), ah, al)
    # fa_expm1_nonpos of min(x, 0), as elu_fwd; x >= 0 takes lambda x, whose
    # zeros have x's sign (elu needs its copysign only for alpha = -0.0)
    return <floating>(SELU_LAMBDA * <double>x if x >= 0 else
                      SELU_LAMBDA_ALPHA * fa_expm1_nonpos(0.0 if x >= 0 else <double>x))

cdef inline floating selu_bwd(floating dy, floating y, double p0, double p1) noexcept nogil:
    cdef double yd = y
    cdef float ah, al
    if floating is float:
        # as elu_bwd, lambda alpha split in two; lambda rounded to float
        fa_splitf(SELU_LAMBDA_ALPHA, &ah, &al)
        return dy * <float>SELU_LAMBDA if y > 0 else dy * _sat_plusf(y, ah, al)
    return <floating>(<double>dy * (SELU_LAMBDA if yd > 0 else yd + SELU_LAMBDA_ALPHA))

# ------------------------------------------------------------------- celu
cdef inline floating celu_fwd(floating x, double alpha, double p1) noexcept nogil:
    cdef float ah, al, th, tl, em, xc, xt
    if floating is float:
        fa_splitf(alpha, &ah, &al)
        # x / alpha as x (1/alpha), a float pair th + tl (as celu_bwd; not a
        # division in double and its conversions: 7.4 -> 3.2 ns/element), x
        # clamped to -100 alpha first (expm1 is -1 long before; keeps th finite):
        # expm1(th + tl) ~ em + tl (1 + em)
        xc = <float>(-100.0 * alpha)
        xc = x if x > xc else xc
        _beta_x(xc, 1.0 / alpha, &th, &tl)
        em = fa_expm1f(th)
        # alpha (em + tl (1 + em)) rounded once (the sum left unrounded: 2.07 ULP
        # with it rounded, for alpha = 0.7)
        # x itself also where |x| < alpha 2^-26 (celu(x) = x (1 + x / (2 alpha) + ..)):
        # there x / alpha may be subnormal, and alpha em lose digits (12 ULP at
        # x = -1.2e-38, alpha = 10)
        xt = <float>(alpha * -TWO_M26)
        return x if not x < xt else fa_mulf_split_pair(em, tl * (ONEF + em), ah, al)   # x = -0 (and nan) too
    # (alpha > 0: alpha < 0 is celu_neg).  x / alpha = q + ql (the
    # division's remainder, exact, over alpha): expm1(q + ql) ~ em + ql (1 +
    # em) (q's rounding cost up to 0.6 ULP more: 2.11 for alpha = 0.7); x
    # clamped to [-100 alpha, 0] first (expm1 is -1 below; keeps q and ql
    # finite and the division from overflowing; nan passes)
    cdef double ql
    cdef double xq = -100.0 * alpha if x < -100.0 * alpha else <double>x
    xq = 0.0 if xq > 0 else xq
    cdef double q = fa_div_dd(xq, alpha, &ql)
    cdef double emd = fa_expm1(q)
    # alpha em + alpha ql (1 + em) with one rounding where there is an FMA
    # x itself where |x| < alpha 2^-55, as in float32
    return x if not x < alpha * -TWO_M55 else <floating>fa_mul_add1(alpha, emd, alpha * (ql * (1.0 + emd)))

cdef inline floating celu_bwd(floating dy, floating x, double alpha, double p1) noexcept nogil:
    cdef double xd = x
    cdef float vh, vl, el
    if floating is float:
        # exp(x / alpha) for x <= 0, x / alpha as x (1/alpha) in a float pair
        _beta_x(ZEROF if x >= 0 else x, 1.0 / alpha, &vh, &vl)   # nan stays
        return dy * (ONEF if x > 0 else fa_expn2(vh, vl, &el) * TWO_M32F)
    # exp(min(x, 0) / alpha), with no select after it: GCC otherwise gives
    # the lanes whose exp is not used (x > 0) the argument -746, whose
    # subnormal result costs a microcode assist (12.8 ns/element for x > 0
    # against 5.4 for x < 0); exp(0) = 1 is the derivative there.  x / alpha
    # = q + ql as in celu_fwd (q's rounding alone cost up to 16 ULP: an
    # error d in the exponent is d relative); fa_expneg_dd drops ql where q
    # is -inf or below its clamp
    # (x clamped to [-1000 alpha, 0] first: the exp is 0 below; nan passes)
    cdef double ql
    cdef double xc = -1000.0 * alpha if xd < -1000.0 * alpha else xd
    xc = 0.0 if xc > 0 else xc
    cdef double q = fa_div_dd(xc, alpha, &ql)
    return <floating>(<double>dy * fa_expneg_dd(q, ql))

# celu at alpha = 1 (the default), without x / alpha's division and splits:
# elu's forward at alpha = 1 (celu's bits at alpha = 1, NaN payloads aside),
# and dy exp(min(x, 0)) for the backward: float64 celu_bwd's bits, float32
# the lean exp (within 1 ULP; 0.21 -> 0.17 ns/element against fa_expn2).
# min(x, 0), not a select of 1 for x > 0: exp(0) is 1 exactly, and GCC's
# merge-masked product for that select ran 4x slower on Zen 5 wherever x > 0
cdef inline floating celu_unit_fwd(floating x, double p0, double p1) noexcept nogil:
    return elu_unit_fwd(x, p0, p1)

cdef inline floating celu_unit_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    if floating is float:
        return dy * (fa_expn2_lean(ZEROF if x >= ZEROF else x) * TWO_M32F)
    # no select after the exp either (celu_bwd's note); nan passes
    return <floating>(<double>dy * fa_expneg(0.0 if x > 0 else <double>x))

# celu for alpha < 0 (_select_celu): x / alpha > 0 where x < 0, so the exps
# grow, to inf, where celu's kernels assume they decay (float32's clamp at
# -100 alpha, float64's fa_expneg); both dtypes in double (fa_math.h)
cdef inline floating celu_neg_fwd(floating x, double alpha, double p1) noexcept nogil:
    return x if x > 0 else <floating>fa_celu_neg64(x, alpha)

cdef inline floating celu_neg_bwd(floating dy, floating x, double alpha, double p1) noexcept nogil:
    return <floating>(<double>dy * fa_celu_neg_grad64(0.0 if x > 0 else <double>x, alpha))

# ------------------------------------------------------------------- mish
cdef inline void _mish_terms(float x, double *t, double *p, double *q, bint fine) noexcept nogil:
    # float32: t = exp(-|x|) and tanh(softplus(x)) = p / q in double, without
    # exp(x) itself: x <= 0: p = n = t (t + 2), q = n + 2;  x > 0: the same
    # over e^2, p = 1 + 2t, q = p + 2t^2.  t from fa_expn2_pair (8 lanes; the
    # pair is exact in double, its relative error ~1e-9), or (fine) in double:
    # the backward cancels to 0 near x = -1.19, where 1e-9 would cost 2000 ULP
    cdef float el
    cdef float eb
    cdef double tt
    if fine:
        tt = fa_expneg(-fabs(<double>x))
    else:
        eb = fa_expn2_pair(-fabsf(x), &el)
        tt = (<double>eb + <double>el) * <double>TWO_M32F
    cdef double n = tt * (tt + 2.0)
    cdef double u = 1.0 + 2.0 * tt
    t[0] = tt
    p[0] = u if x > 0 else n
    q[0] = u + 2.0 * tt * tt if x > 0 else n + 2.0

cdef inline floating mish_fwd(floating x, double p0, double p1) noexcept nogil:
    # tanh(softplus(x)) = n / (n + 2), n = e (e + 2), e = exp(x); == 1 in double
    # once x > 20, so x is clamped there to keep n finite
    cdef double xd = x
    cdef double t, p, q
    if floating is float:
        # the limit below x = -104 (t is exp(-104) there): a signed zero
        _mish_terms(x, &t, &p, &q, False)
        return <floating>(copysign(0.0, xd) if xd < -104.0 else xd * (p / q))
    cdef double es = fa_expneg_s64(20.0 if xd > 20.0 else xd)     # (any argument <= 664)
    cdef double e = es * TWO_M64
    cdef double n = e * e + 2.0 * e     # one rounding that matters (e * e is small next to 2e)
    # beyond FAR: n 2^64 = 2 es (e * e is 0), the result scaled back after
    cdef bint far = xd < FAR
    cdef double ns = 2.0 * es if far else n
    return <floating>(copysign(0.0, xd) if n == 0.0 else (xd * (ns / (n + 2.0))) * (TWO_M64 if far else 1.0))

cdef inline floating mish_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    # tanh(sp) + x sech^2(sp) sigma(x), sech^2(sp) = 4 (n + 1) / (n + 2)^2;
    # the second term is below 2^-60 once x > 25
    cdef double xd = x
    cdef double t, p, q, g
    if floating is float:
        # with p / q as in mish_fwd: sech^2 = (q - p)(q + p) / q^2, q - p = 2t^2
        # (x > 0) or 2, sigma(x) = s / (1 + t), s = 1 or t; one division.
        # Limits: 1 above x = 25, 0 below x = -104 (|g| < 1e-43 there)
        _mish_terms(x, &t, &p, &q, True)
        g = ((p * q) * (1.0 + t) + xd * ((1.0 if x > 0 else t) * (((2.0 * t * t) if x > 0 else 2.0) * (q + p))))
        g = g / ((q * q) * (1.0 + t))
        g = 1.0 if xd > 25.0 else (0.0 if xd < -104.0 else g)
        return <floating>(<double>dy * g)
    # over one division (the three quotients' denominators multiplied: at
    # most 2e54 at x = 25); x clamped below at -800 (e = 0 there) so that
    # x e is never -inf * 0: g is then a zero of the true sign
    cdef double es = fa_expneg_s64(25.0 if xd > 25.0 else xd)
    cdef double e = es * TWO_M64
    cdef double n = e * (e + 2.0)
    cdef double n2 = n + 2.0
    cdef double e1 = 1.0 + e
    cdef double xc = -800.0 if xd < -800.0 else xd
    # beyond FAR (e not 0): n and e in the numerator as 2 es and es, the
    # quotient scaled back after
    cdef double k = _far_scale(xd, e)
    cdef double ns = 2.0 * es if k != 1.0 else n
    cdef double en = es if k != 1.0 else e
    g = ((ns * e1) * n2 + (4.0 * xc) * (en * (n + 1.0))) / (e1 * (n2 * n2))
    g = g * k
    g = 1.0 if xd > 25.0 else g
    return <floating>(<double>dy * g)

# --------------------------------------------------------------- softsign
cdef inline floating softsign_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double xd = x
    if floating is float:
        return fa_softsignf(x)                  # fa_math32.h
    cdef double a = fabs(xd)
    return <floating>(copysign(1.0, xd) if a == INFINITY else xd / (1.0 + a))

cdef inline floating softsign_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    if floating is float:
        return fa_softsign_gradf(dy, x)         # fa_math32.h: in double, then rounded to float
    return <floating>fa_softsign_grad64(dy, x)  # fa_math.h: scaled beyond |x| = 2^500

# ------------------------------------------------------------ log_sigmoid
cdef inline floating log_sigmoid_fwd(floating x, double p0, double p1) noexcept nogil:
    cdef double xd = x
    cdef float ef, el
    if floating is float:
        ef = fa_expn2(-fabsf(x), 0.0, &el)                        # exp(-|x|) 2^32
        return (x if x < 0 else ZEROF) - fa_log1pf01_dd(ef * TWO_M32F, el * TWO_M32F)   # (a float 0: 0.0 made it double)
    return <floating>((xd if xd < 0 else 0.0) - fa_log1p01(fa_expneg(-fabs(xd))))

cdef inline floating log_sigmoid_bwd(floating dy, floating x, double p0, double p1) noexcept nogil:
    cdef double sp, sm, e
    if floating is float:
        return dy * fa_sigmoidf(-x)             # sigma(-x): the sigmoid forward's one division
    fa_sigmoid_pair(x, &sp, &sm, &e)
    return <floating>(<double>dy * sm)

# --------------------------------------------------------------- identity
cdef inline floating identity_fwd(floating x, double p0, double p1) noexcept nogil:
    return x

cdef inline floating identity_bwd(floating dy, floating s, double p0, double p1) noexcept nogil:
    return dy

// Native CPU training kernels of the learnable activations with formulas
// (affine, swish, mixture, rational, spline, ReLU subnetwork; float32).
//
// Each operator is one autograd node written in C++: in a training step no
// Python runs per activation call (an autograd.Function in Python costs ~7 us
// per call alone, several times that inside a step). The maths are the
// formulas of _functional.py (_affine_*, _swish_*, _mixture_*, _rational_*,
// _spline_*, _relu_subnet_*): tests/test_fused.py checks these operators against them,
// values and gradients, layer-wide and per channel.
//
// Loops over chunks of kChunk elements that the compiler vectorises, on
// torch's threads (at::parallel_for) above kGrain elements; parameter
// gradients are summed per thread, then added. _native.py sends only inputs
// of up to BELOW elements here (a training batch of a dense or small
// convolutional layer). A backward with create_graph=True (a gradient to be
// differentiated again) runs the Python formula through the operator
// sklearn_learnact::eager_grads, which autograd records.
//
// Built and loaded by _native.py; nothing here is needed to predict.

#include <ATen/Parallel.h>
#include <ATen/core/Tensor.h>
#include <ATen/ops/empty_like.h>
#include <ATen/ops/full.h>
#include <ATen/cpu/vec/vec.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

using at::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// -- create_graph=True: the eager formula, through Python ----------------------
variable_list eager_grads(const std::string& kind, const Tensor& x,
                          const Tensor& grad, std::vector<Tensor> params,
                          std::vector<double> statics) {
  static const auto op = c10::Dispatcher::singleton().findSchemaOrThrow(
      "sklearn_learnact::eager_grads", "");
  torch::jit::Stack stack;
  stack.emplace_back(kind);
  stack.emplace_back(x);
  stack.emplace_back(grad);
  stack.emplace_back(std::move(params));
  stack.emplace_back(std::move(statics));
  op.callBoxed(&stack);
  return stack.at(0).toTensorVector();
}

// A backward's gradients, one per input of forward: the native formula's
// (`native(saved, grad, needs)`, N tensor inputs) or, with create_graph=True,
// the eager Python formula's; undefined where no gradient is needed, and for
// the `extra` non-tensor inputs.
template <size_t N, typename Native>
variable_list backward_of(AutogradContext* ctx, const Tensor& grad,
                          const std::string& kind, std::vector<double> statics,
                          size_t extra, Native native) {
  const auto saved = ctx->get_saved_variables();
  std::array<bool, N> needs;
  for (size_t k = 0; k < N; ++k) needs[k] = ctx->needs_input_grad(k);
  variable_list g =
      at::GradMode::is_enabled()
          ? eager_grads(kind, saved[0], grad,
                        std::vector<Tensor>(saved.begin() + 1, saved.end()),
                        std::move(statics))
          : native(saved, grad, needs);
  for (size_t k = 0; k < N; ++k) {
    if (!needs[k]) g[k] = Tensor();
  }
  g.resize(N + extra);
  return g;
}

// Per-thread partial sums, `threads` rows of `width`: row 0 gets their total.
template <typename T>
inline void add_thread_sums(std::vector<T>& sums, int64_t threads, int64_t width) {
  for (int64_t th = 1; th < threads; ++th)
    for (int64_t k = 0; k < width; ++k) sums[k] += sums[th * width + k];
}

// float32 only: the estimators train in float32; float64 (and the rest)
// trains through the compiled kernels, and each dtype here would double the
// build time (about 15 s).
template <typename F>
inline void float_only(const Tensor& x, const char* name, F fn) {
  TORCH_CHECK(x.scalar_type() == at::kFloat, name, ": float32 only");
  fn();
}

// -- layouts ------------------------------------------------------------------
// Layer-wide parameters apply to every element of x (any shape); per-channel
// ones (a leading axis C) to channel dim 1 of x, (N, C, ...): the elements of
// channel c are the runs (n, c, ...) of numel / (N C) elements.
struct Layout {
  int64_t channels, block;  // block: elements per (n, c) run
};

// The layout of x for a parameter whose layer-wide version has `dims` dims.
Layout layout_of(const Tensor& x, const Tensor& p, int64_t dims, const char* name) {
  TORCH_CHECK(p.scalar_type() == x.scalar_type(), name, ": mixed dtypes");
  TORCH_CHECK(p.dim() == dims || p.dim() == dims + 1, name, ": bad parameter shape");
  if (p.dim() == dims || x.numel() == 0) return {1, std::max<int64_t>(x.numel(), 1)};
  TORCH_CHECK(x.dim() >= 2 && x.size(1) == p.size(0), name,
              ": per channel, x must be (N, C, ...) with C the parameters' first size");
  return {p.size(0), x.numel() / (x.size(0) * x.size(1))};
}

// Calls fn(start, stop, channel) for the runs of one channel in [begin, end).
template <typename F>
inline void channel_runs(int64_t begin, int64_t end, const Layout& l, F fn) {
  while (begin < end) {
    const int64_t b = begin / l.block;
    const int64_t stop = std::min(end, (b + 1) * l.block);
    fn(begin, stop, b % l.channels);
    begin = stop;
  }
}

// Elements per thread below which the loops stay on one thread; elements per
// chunk of the loops that keep a temporary per element (in L1).
constexpr int64_t kGrain = 32768;
constexpr int64_t kChunk = 256;

// sum_i a[i] b[i] over lanes (vectorised without reassociating a serial sum).
template <typename T>
inline T dot(const T* __restrict a, const T* __restrict b, int64_t m) {
  constexpr int64_t L = 16;
  T lanes[L] = {};
  int64_t i = 0;
  for (; i + L <= m; i += L)
    for (int64_t l = 0; l < L; ++l) lanes[l] += a[i + l] * b[i + l];
  T total = 0;
  for (int64_t l = 0; l < L; ++l) total += lanes[l];
  for (; i < m; ++i) total += a[i] * b[i];
  return total;
}

// sum_i a[i] over lanes.
template <typename T>
inline T lane_sum(const T* __restrict a, int64_t m) {
  constexpr int64_t L = 16;
  T lanes[L] = {};
  int64_t i = 0;
  for (; i + L <= m; i += L)
    for (int64_t l = 0; l < L; ++l) lanes[l] += a[i + l];
  T total = 0;
  for (int64_t l = 0; l < L; ++l) total += lanes[l];
  for (; i < m; ++i) total += a[i];
  return total;
}

// out = k0 + k1 x (as torch.addcmul(k0, k1, x)) and out = k a, vectorised.
template <typename T>
inline void affine_values(const T* __restrict x, T* __restrict out, int64_t m, T k0,
                          T k1) {
  for (int64_t i = 0; i < m; ++i) out[i] = k0 + k1 * x[i];
}

template <typename T>
inline void scaled(const T* __restrict a, T* __restrict out, int64_t m, T k) {
  for (int64_t i = 0; i < m; ++i) out[i] = a[i] * k;
}

// -- spline ---------------------------------------------------------------------
// Cubic coefficients of each interval, Catmull-Rom tangents in grid units (as
// _hermite_table): four planes c0..c3, each (C, K - 1), so that the loops
// below gather them with vector instructions.
template <typename T>
std::vector<T> hermite_table(const T* v, int64_t channels, int64_t knots) {
  const int64_t cells = knots - 1, plane = channels * cells;
  std::vector<T> table(4 * plane);
  auto tangent = [&](const T* y, int64_t i) -> T {
    if (i == 0) return y[1] - y[0];
    if (i == knots - 1) return y[knots - 1] - y[knots - 2];
    return (y[i + 1] - y[i - 1]) * T(0.5);
  };
  for (int64_t c = 0; c < channels; ++c) {
    const T* y = v + c * knots;
    for (int64_t r = 0; r < cells; ++r) {
      const T y0 = y[r], y1 = y[r + 1], d0 = tangent(y, r), d1 = tangent(y, r + 1);
      const int64_t at = c * cells + r;
      table[at] = y0;
      table[plane + at] = d0;
      table[2 * plane + at] = T(3) * (y1 - y0) - T(2) * d0 - d1;
      table[3 * plane + at] = T(2) * (y0 - y1) + d0 + d1;
    }
  }
  return table;
}

// The element's cell (0..K-2), local coordinate t and distance beyond the
// grid. uc is in [0, K - 1] (or NaN: then cell 0 and a NaN result), so the
// conversion truncates to floor.
template <typename T>
inline int32_t spline_cell(T x, T lo, T step, int32_t last, T& t, T& beyond) {
  const T u = (x - lo) / step;
  const T uc = std::min(std::max(u, T(0)), T(last + 1));
  int32_t cell = static_cast<int32_t>(uc);
  cell = std::max(std::min(cell, last), 0);
  t = uc - T(cell);
  beyond = u - uc;
  return cell;
}

// The inner loops: plain functions of restrict pointers and values, so that
// the compiler vectorises them (captured references may alias the output).
template <typename T>
void spline_values(const T* __restrict xp, T* __restrict op, int64_t n,
                   const T* __restrict c0, const T* __restrict c1,
                   const T* __restrict c2, const T* __restrict c3, T lo, T step,
                   int32_t last) {
  for (int64_t i = 0; i < n; ++i) {
    T t, beyond;
    const int32_t k = spline_cell(xp[i], lo, step, last, t, beyond);
    const T slope = c1[k] + t * (T(2) * c2[k] + T(3) * c3[k] * t);
    op[i] = c0[k] + t * (c1[k] + t * (c2[k] + t * c3[k])) + beyond * slope;
  }
}

template <typename T>
void spline_slopes(const T* __restrict xp, const T* __restrict gp, T* __restrict gxp,
                   int64_t n, const T* __restrict c1, const T* __restrict c2,
                   const T* __restrict c3, T lo, T step, int32_t last) {
  for (int64_t i = 0; i < n; ++i) {
    T t, beyond;
    const int32_t k = spline_cell(xp[i], lo, step, last, t, beyond);
    gxp[i] = gp[i] * (c1[k] + t * (T(2) * c2[k] + T(3) * c3[k] * t)) / step;
  }
}

// Sums per cell into ``acc`` (cell, 4), and the gradient of x if gxp: by
// chunks, the cells, the four terms and gxp (vectorised), then the scatter
// (scalar); one pass over the data for both gradients.
template <typename T>
void spline_cell_sums(const T* __restrict xp, const T* __restrict gp,
                      T* __restrict gxp, int64_t n, const T* __restrict c1,
                      const T* __restrict c2, const T* __restrict c3,
                      T* __restrict acc, T lo, T step, int32_t last) {
  int32_t cell[kChunk];
  T local[kChunk], terms[4][kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    const T* __restrict xs = xp + start;
    const T* __restrict gs = gp + start;
    for (int64_t i = 0; i < m; ++i) {
      T t, beyond;
      cell[i] = spline_cell(xs[i], lo, step, last, t, beyond);
      local[i] = t;
      const T g = gs[i], gt = g * t;
      terms[0][i] = g;
      terms[1][i] = g * (t + beyond);
      terms[2][i] = gt * (t + T(2) * beyond);
      terms[3][i] = gt * t * (t + T(3) * beyond);
    }
    if (gxp != nullptr) {  // as spline_slopes, from the cells found above
      T* __restrict gxs = gxp + start;
      for (int64_t i = 0; i < m; ++i) {
        const int32_t k = cell[i];
        const T t = local[i];
        gxs[i] = gs[i] * (c1[k] + t * (T(2) * c2[k] + T(3) * c3[k] * t)) / step;
      }
    }
    for (int64_t i = 0; i < m; ++i) {
      T* a = acc + 4 * cell[i];
      a[0] += terms[0][i];
      a[1] += terms[1][i];
      a[2] += terms[2][i];
      a[3] += terms[3][i];
    }
  }
}


Tensor spline_forward(const Tensor& x_in, const Tensor& values_in, double lo,
                      double step) {
  const Tensor x = x_in.contiguous(), values = values_in.contiguous();
  const int64_t knots = values.size(-1);
  TORCH_CHECK(knots >= 2, "a spline needs at least two knots");
  const auto layout = layout_of(x, values, 1, "spline");
  Tensor out = at::empty_like(x);
  float_only(x, "spline_forward", [&] {
    using T = float;
    const auto table = hermite_table(values.data_ptr<T>(), layout.channels, knots);
    const int64_t cells = knots - 1, plane = layout.channels * cells;
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T lo_ = lo, step_ = step;
    const int32_t last = static_cast<int32_t>(cells - 1);
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        const T* c0 = table.data() + ch * cells;
        spline_values(xp + start, op + start, stop - start, c0, c0 + plane,
                      c0 + 2 * plane, c0 + 3 * plane, lo_, step_, last);
      });
    });
  });
  return out;
}

std::pair<Tensor, Tensor> spline_backward(const Tensor& x_in, const Tensor& grad_in,
                                          const Tensor& values_in, double lo,
                                          double step, bool need_x, bool need_values) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor values = values_in.contiguous();
  const int64_t knots = values.size(-1);
  TORCH_CHECK(knots >= 2, "a spline needs at least two knots");
  const auto layout = layout_of(x, values, 1, "spline");
  Tensor grad_x = need_x ? at::empty_like(x) : Tensor();
  Tensor grad_values = need_values ? at::empty_like(values) : Tensor();
  float_only(x, "spline_backward", [&] {
    using T = float;
    const int64_t cells = knots - 1;
    const int64_t plane = layout.channels * cells;
    const auto table = hermite_table(values.data_ptr<T>(), layout.channels, knots);
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = need_x ? grad_x.data_ptr<T>() : nullptr;
    const T lo_ = lo, step_ = step;
    const int32_t last = static_cast<int32_t>(cells - 1);
    // per thread and cell, the sums of grad * d out / d (c0, c1, c2, c3)
    const int64_t n = x.numel();
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    const int64_t stride = plane * 4;  // the (C, cell, 4) sums of one thread
    std::vector<T> sums(need_values ? threads * stride : 0, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* mine = need_values ? sums.data() + at::get_thread_num() * stride : nullptr;
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        const T* c1 = table.data() + plane + ch * cells;
        T* gx = gxp != nullptr ? gxp + start : nullptr;
        if (mine != nullptr) {
          spline_cell_sums(xp + start, gp + start, gx, stop - start, c1, c1 + plane,
                           c1 + 2 * plane, mine + ch * cells * 4, lo_, step_, last);
        } else if (gx != nullptr) {
          spline_slopes(xp + start, gp + start, gx, stop - start, c1, c1 + plane,
                        c1 + 2 * plane, lo_, step_, last);
        }
      });
    });
    if (!need_values) return;
    add_thread_sums(sums, threads, stride);
    // back through the table to the knot values (as _hermite_table_vjp)
    T* gv = grad_values.data_ptr<T>();
    std::vector<double> gy(knots), gd(knots);
    for (int64_t ch = 0; ch < layout.channels; ++ch) {
      std::fill(gy.begin(), gy.end(), 0.0);
      std::fill(gd.begin(), gd.end(), 0.0);
      const T* a = sums.data() + ch * cells * 4;
      for (int64_t r = 0; r < cells; ++r) {
        const double g0 = a[4 * r], g1 = a[4 * r + 1], g2 = a[4 * r + 2],
                     g3 = a[4 * r + 3];
        gy[r] += g0 - 3.0 * g2 + 2.0 * g3;
        gy[r + 1] += 3.0 * g2 - 2.0 * g3;
        gd[r] += g1 - 2.0 * g2 + g3;
        gd[r + 1] += g3 - g2;
      }
      // tangents: one-sided differences at the ends, central ones inside
      gy[0] -= gd[0];
      gy[1] += gd[0];
      gy[knots - 1] += gd[knots - 1];
      gy[knots - 2] -= gd[knots - 1];
      for (int64_t i = 1; i + 1 < knots; ++i) {
        gy[i + 1] += 0.5 * gd[i];
        gy[i - 1] -= 0.5 * gd[i];
      }
      for (int64_t k = 0; k < knots; ++k) gv[ch * knots + k] = static_cast<T>(gy[k]);
    }
  });
  return {grad_x, grad_values};
}

struct SplineFunction : public torch::autograd::Function<SplineFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& values,
                        double lo, double step) {
    ctx->save_for_backward({x, values});
    ctx->saved_data["lo"] = lo;
    ctx->saved_data["step"] = step;
    return spline_forward(x, values, lo, step);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const double lo = ctx->saved_data["lo"].toDouble();
    const double step = ctx->saved_data["step"].toDouble();
    return backward_of<2>(ctx, grads[0], "spline", {lo, step}, 2,
                          [&](const variable_list& s, const Tensor& g, auto needs) {
                            auto [gx, gv] = spline_backward(s[0], g, s[1], lo, step,
                                                            needs[0], needs[1]);
                            return variable_list{gx, gv};
                          });
  }
};

// -- mixture: sum_i P_i f_i(x), P = softplus(w) / sum(softplus(w)) ----------------
// Basis codes (as _functional's _BASIS_CODES); tanh(x) = 2 sigmoid(2 x) - 1,
// as the eager formula. The transcendental parts use torch's vector maths
// (at::vec::Vectorized: Sleef's exp, sin and cos, as torch's own kernels).
enum Basis : int64_t { kRelu = 0, kTanh = 1, kSigmoid = 2, kSin = 3, kIdentity = 4 };
const char* const kBasisNames[] = {"relu", "tanh", "sigmoid", "sin", "identity"};

// Over a chunk: out = fn(Vectorized of x), by vectors, the tail partial.
template <typename T, typename F>
inline void vec_map(const T* x, T* out, int64_t m, F fn) {
  using V = at::vec::Vectorized<T>;
  int64_t i = 0;
  for (; i + V::size() <= m; i += V::size()) fn(V::loadu(x + i)).store(out + i);
  if (i < m) fn(V::loadu(x + i, m - i)).store(out + i, m - i);
}

template <typename T>
inline at::vec::Vectorized<T> vec_sigmoid(at::vec::Vectorized<T> v) {
  using V = at::vec::Vectorized<T>;
  return (V(T(1)) + v.neg().exp()).reciprocal();
}

// The precomputed part of one basis over a chunk: sigmoid(2x), sigmoid(x),
// sin(x); x for relu and the identity.
template <typename T>
inline void basis_raw(int64_t kind, const T* __restrict x, T* __restrict r, int64_t m) {
  using V = at::vec::Vectorized<T>;
  switch (kind) {
    case kTanh:
      vec_map(x, r, m, [](V v) { return vec_sigmoid(v * V(T(2))); });
      break;
    case kSigmoid:
      vec_map(x, r, m, [](V v) { return vec_sigmoid(v); });
      break;
    case kSin:
      vec_map(x, r, m, [](V v) { return v.sin(); });
      break;
    default:
      for (int64_t i = 0; i < m; ++i) r[i] = x[i];
  }
}

// f(x) of one basis over a chunk, from its precomputed part r.
template <typename T>
inline void basis_value(int64_t kind, const T* __restrict r, T* __restrict f, int64_t m) {
  switch (kind) {
    case kRelu:
      for (int64_t i = 0; i < m; ++i) f[i] = std::max(r[i], T(0));
      break;
    case kTanh:
      for (int64_t i = 0; i < m; ++i) f[i] = T(2) * r[i] - T(1);
      break;
    default:
      for (int64_t i = 0; i < m; ++i) f[i] = r[i];
  }
}

// f'(x) of one basis over a chunk, from x and its value f.
template <typename T>
inline void basis_slope(int64_t kind, const T* __restrict x, const T* __restrict f,
                        T* __restrict d, int64_t m) {
  using V = at::vec::Vectorized<T>;
  switch (kind) {
    case kRelu:
      for (int64_t i = 0; i < m; ++i) d[i] = T(x[i] > T(0));
      break;
    case kTanh:
      for (int64_t i = 0; i < m; ++i) d[i] = T(1) - f[i] * f[i];
      break;
    case kSigmoid:
      for (int64_t i = 0; i < m; ++i) d[i] = f[i] - f[i] * f[i];
      break;
    case kSin:
      vec_map(x, d, m, [](V v) { return v.cos(); });
      break;
    default:
      for (int64_t i = 0; i < m; ++i) d[i] = T(1);
  }
}

// P = w / sum(w), w = softplus(weight) (threshold 20, as torch's), per
// channel; and sum(w).
template <typename T>
void mixture_coefficients(const T* weight, int64_t channels, int64_t k,
                          std::vector<T>& p, std::vector<T>& total) {
  p.resize(channels * k);
  total.resize(channels);
  for (int64_t c = 0; c < channels; ++c) {
    T sum = 0;
    for (int64_t j = 0; j < k; ++j) {
      const T v = weight[c * k + j];
      p[c * k + j] = v > T(20) ? v : std::log1p(std::exp(v));
      sum += p[c * k + j];
    }
    for (int64_t j = 0; j < k; ++j) p[c * k + j] /= sum;
    total[c] = sum;
  }
}

Tensor mixture_forward(const Tensor& x_in, const Tensor& weight_in,
                       c10::IntArrayRef basis) {
  const Tensor x = x_in.contiguous(), weight = weight_in.contiguous();
  const auto layout = layout_of(x, weight, 1, "mixture");
  const int64_t k = weight.size(-1);
  TORCH_CHECK(static_cast<int64_t>(basis.size()) == k, "mixture: one basis per weight");
  for (const int64_t kind : basis)
    TORCH_CHECK(kind >= kRelu && kind <= kIdentity, "mixture: unknown basis code ", kind);
  Tensor out = at::empty_like(x);
  float_only(x, "mixture_forward", [&] {
    using T = float;
    std::vector<T> p, total;
    mixture_coefficients(weight.data_ptr<T>(), layout.channels, k, p, total);
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        T r[kChunk], f[kChunk];
        for (int64_t s0 = start; s0 < stop; s0 += kChunk) {
          const int64_t m = std::min(kChunk, stop - s0);
          T* __restrict os = op + s0;
          for (int64_t j = 0; j < k; ++j) {
            basis_raw(basis[j], xp + s0, r, m);
            basis_value(basis[j], r, f, m);
            const T pj = p[ch * k + j];
            if (j == 0) {
              for (int64_t i = 0; i < m; ++i) os[i] = pj * f[i];
            } else {
              for (int64_t i = 0; i < m; ++i) os[i] = os[i] + pj * f[i];
            }
          }
        }
      });
    });
  });
  return out;
}

variable_list mixture_backward(const Tensor& x_in, const Tensor& grad_in,
                               const Tensor& weight_in, c10::IntArrayRef basis,
                               std::array<bool, 2> needs) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor weight = weight_in.contiguous();
  const auto layout = layout_of(x, weight, 1, "mixture");
  const int64_t k = weight.size(-1), channels = layout.channels;
  for (const int64_t kind : basis)
    TORCH_CHECK(kind >= kRelu && kind <= kIdentity, "mixture: unknown basis code ", kind);
  variable_list out(2);
  if (needs[0]) out[0] = at::empty_like(x);
  float_only(x, "mixture_backward", [&] {
    using T = float;
    std::vector<T> p, total;
    mixture_coefficients(weight.data_ptr<T>(), channels, k, p, total);
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = needs[0] ? out[0].data_ptr<T>() : nullptr;
    const int64_t n = x.numel();
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    const int64_t width = channels * k;  // per thread: sum of grad * f_j
    std::vector<T> sums(threads * width, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* mine = sums.data() + at::get_thread_num() * width;
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        T r[kChunk], f[kChunk], d[kChunk], slope[kChunk];
        for (int64_t s0 = start; s0 < stop; s0 += kChunk) {
          const int64_t m = std::min(kChunk, stop - s0);
          const T* __restrict gs = gp + s0;
          for (int64_t j = 0; j < k; ++j) {
            basis_raw(basis[j], xp + s0, r, m);
            basis_value(basis[j], r, f, m);
            if (needs[1]) mine[ch * k + j] += dot(gs, f, m);
            if (gxp == nullptr) continue;
            basis_slope(basis[j], xp + s0, f, d, m);
            const T pj = p[ch * k + j];
            if (j == 0) {
              for (int64_t i = 0; i < m; ++i) slope[i] = pj * d[i];
            } else {
              for (int64_t i = 0; i < m; ++i) slope[i] = slope[i] + pj * d[i];
            }
          }
          if (gxp != nullptr) {
            T* __restrict gxs = gxp + s0;
            for (int64_t i = 0; i < m; ++i) gxs[i] = gs[i] * slope[i];
          }
        }
      });
    });
    if (!needs[1]) return;
    for (int64_t th = 1; th < threads; ++th)
      for (int64_t q = 0; q < width; ++q) sums[q] += sums[th * width + q];
    // through P = w / sum(w) and w = softplus(weight)
    out[1] = at::empty_like(weight);
    T* gw = out[1].data_ptr<T>();
    const T* wp = weight.data_ptr<T>();
    for (int64_t c = 0; c < channels; ++c) {
      T mean = 0;
      for (int64_t j = 0; j < k; ++j) mean += sums[c * k + j] * p[c * k + j];
      for (int64_t j = 0; j < k; ++j) {
        const T sig = T(1) / (T(1) + std::exp(-wp[c * k + j]));
        gw[c * k + j] = (sums[c * k + j] - mean) / total[c] * sig;
      }
    }
  });
  return out;
}

struct MixtureFunction : public torch::autograd::Function<MixtureFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight,
                        c10::IntArrayRef basis) {
    ctx->save_for_backward({x, weight});
    ctx->saved_data["basis"] = basis.vec();
    return mixture_forward(x, weight, basis);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto basis = ctx->saved_data["basis"].toIntVector();
    std::string kind = "mixture:";  // the eager formula's basis, by name
    for (size_t j = 0; j < basis.size(); ++j)
      kind += (j ? "," : "") + std::string(kBasisNames[basis[j]]);
    return backward_of<2>(ctx, grads[0], kind, {}, 1,
                          [&](const variable_list& s, const Tensor& g, auto needs) {
                            return mixture_backward(s[0], g, s[1], basis, needs);
                          });
  }
};

// -- affine: k0 + k1 x; swish: x sigmoid(beta x) ------------------------------------
// One value per channel (or one for the layer): k0, k1, beta of shape () or (C,).
Tensor affine_forward(const Tensor& x_in, const Tensor& k0_in, const Tensor& k1_in) {
  const Tensor x = x_in.contiguous(), k0 = k0_in.contiguous(), k1 = k1_in.contiguous();
  const auto layout = layout_of(x, k0, 0, "affine");
  TORCH_CHECK(k1.sizes() == k0.sizes() && k1.scalar_type() == x.scalar_type(),
              "affine: k0 and k1 must match");
  Tensor out = at::empty_like(x);
  float_only(x, "affine_forward", [&] {
    using T = float;
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T* a = k0.data_ptr<T>();
    const T* b = k1.data_ptr<T>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        affine_values(xp + start, op + start, stop - start, a[ch], b[ch]);
      });
    });
  });
  return out;
}

variable_list affine_backward(const Tensor& x_in, const Tensor& grad_in,
                              const Tensor& k0_in, const Tensor& k1_in,
                              std::array<bool, 3> needs) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor k0 = k0_in.contiguous(), k1 = k1_in.contiguous();
  const auto layout = layout_of(x, k0, 0, "affine");
  const int64_t channels = layout.channels;
  variable_list out(3);
  if (needs[0]) out[0] = at::empty_like(x);
  float_only(x, "affine_backward", [&] {
    using T = float;
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = needs[0] ? out[0].data_ptr<T>() : nullptr;
    const T* b = k1.data_ptr<T>();
    const int64_t n = x.numel();
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    const int64_t width = 2 * channels;  // per thread: (sum grad, sum grad x)
    std::vector<T> sums(threads * width, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* mine = sums.data() + at::get_thread_num() * width;
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        const int64_t m = stop - start;
        if (gxp != nullptr) scaled(gp + start, gxp + start, m, b[ch]);
        if (needs[1]) mine[2 * ch] += lane_sum(gp + start, m);
        if (needs[2]) mine[2 * ch + 1] += dot(gp + start, xp + start, m);
      });
    });
    add_thread_sums(sums, threads, width);
    for (int k = 1; k < 3; ++k) {
      if (!needs[k]) continue;
      out[k] = at::empty_like(k0);
      T* g = out[k].data_ptr<T>();
      for (int64_t c = 0; c < channels; ++c) g[c] = sums[2 * c + (k - 1)];
    }
  });
  return out;
}

Tensor swish_forward(const Tensor& x_in, const Tensor& beta_in) {
  const Tensor x = x_in.contiguous(), beta = beta_in.contiguous();
  const auto layout = layout_of(x, beta, 0, "swish");
  Tensor out = at::empty_like(x);
  float_only(x, "swish_forward", [&] {
    using T = float;
    using V = at::vec::Vectorized<T>;
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T* bp = beta.data_ptr<T>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        const V b(bp[ch]);
        vec_map(xp + start, op + start, stop - start,
                [b](V v) { return v * vec_sigmoid(b * v); });
      });
    });
  });
  return out;
}

variable_list swish_backward(const Tensor& x_in, const Tensor& grad_in,
                             const Tensor& beta_in, std::array<bool, 2> needs) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor beta = beta_in.contiguous();
  const auto layout = layout_of(x, beta, 0, "swish");
  const int64_t channels = layout.channels;
  variable_list out(2);
  if (needs[0]) out[0] = at::empty_like(x);
  float_only(x, "swish_backward", [&] {
    using T = float;
    using V = at::vec::Vectorized<T>;
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = needs[0] ? out[0].data_ptr<T>() : nullptr;
    const T* bp = beta.data_ptr<T>();
    const int64_t n = x.numel();
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    std::vector<T> sums(threads * channels, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* mine = sums.data() + at::get_thread_num() * channels;
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        T s[kChunk], w[kChunk];
        const T b = bp[ch];
        for (int64_t s0 = start; s0 < stop; s0 += kChunk) {
          const int64_t m = std::min(kChunk, stop - s0);
          const T* __restrict xs = xp + s0;
          const T* __restrict gs = gp + s0;
          const V bv(b);
          vec_map(xs, s, m, [bv](V v) { return vec_sigmoid(bv * v); });
          for (int64_t i = 0; i < m; ++i) w[i] = s[i] * (T(1) - s[i]);  // sigmoid'
          if (gxp != nullptr) {
            T* __restrict gxs = gxp + s0;
            for (int64_t i = 0; i < m; ++i) gxs[i] = gs[i] * (s[i] + b * xs[i] * w[i]);
          }
          if (needs[1]) {
            for (int64_t i = 0; i < m; ++i) w[i] = gs[i] * xs[i] * xs[i] * w[i];
            mine[ch] += lane_sum(w, m);
          }
        }
      });
    });
    if (!needs[1]) return;
    add_thread_sums(sums, threads, channels);
    out[1] = at::empty_like(beta);
    std::copy(sums.begin(), sums.begin() + channels, out[1].data_ptr<T>());
  });
  return out;
}

struct AffineFunction : public torch::autograd::Function<AffineFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& k0,
                        const Tensor& k1) {
    ctx->save_for_backward({x, k0, k1});
    return affine_forward(x, k0, k1);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return backward_of<3>(ctx, grads[0], "affine", {}, 0,
                          [](const variable_list& s, const Tensor& g, auto needs) {
                            return affine_backward(s[0], g, s[1], s[2], needs);
                          });
  }
};

struct SwishFunction : public torch::autograd::Function<SwishFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& beta) {
    ctx->save_for_backward({x, beta});
    return swish_forward(x, beta);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return backward_of<2>(ctx, grads[0], "swish", {}, 0,
                          [](const variable_list& s, const Tensor& g, auto needs) {
                            return swish_backward(s[0], g, s[1], needs);
                          });
  }
};

// -- rational: P(x) / (1 + |x Q'(x)|) ----------------------------------------------
// Horner over a chunk: out = c[0] + x (c[1] + x (... + x c[k - 1])), one
// vectorised pass per coefficient (as _horner: c[-2] + c[-1] x first).
template <typename T>
inline void horner(const T* __restrict c, int64_t k, const T* __restrict x,
                   T* __restrict out, int64_t m) {
  for (int64_t i = 0; i < m; ++i) out[i] = c[k - 1];
  for (int64_t j = k - 2; j >= 0; --j) {
    const T cj = c[j];
    for (int64_t i = 0; i < m; ++i) out[i] = cj + out[i] * x[i];
  }
}

template <typename T>
void rational_values(const T* __restrict xp, T* __restrict op, int64_t n,
                     const T* __restrict a, int64_t na, const T* __restrict b,
                     int64_t nb) {
  T q[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    const T* __restrict xs = xp + start;
    T* __restrict os = op + start;
    horner(a, na, xs, os, m);
    horner(b, nb, xs, q, m);
    for (int64_t i = 0; i < m; ++i) os[i] = os[i] / (std::abs(q[i] * xs[i]) + T(1));
  }
}

// One channel's run: the gradient of x (if gx) and the sums of the
// parameters' gradients added into ga (na) and gb (nb) (if given).
template <typename T>
void rational_grads(const T* __restrict xp, const T* __restrict gp, T* __restrict gx,
                    int64_t n, const T* __restrict a, int64_t na,
                    const T* __restrict b, int64_t nb, const T* __restrict da,
                    const T* __restrict db, T* __restrict ga, T* __restrict gb) {
  T num[kChunk], q[kChunk], gn[kChunk], gq[kChunk], t1[kChunk], t2[kChunk];
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    const T* __restrict xs = xp + start;
    const T* __restrict gs = gp + start;
    horner(a, na, xs, num, m);
    horner(b, nb, xs, q, m);
    for (int64_t i = 0; i < m; ++i) {
      const T qi = q[i] * xs[i], den = std::abs(qi) + T(1);
      const T sign = T(qi > T(0)) - T(qi < T(0));
      gn[i] = gs[i] / den;
      gq[i] = -(gn[i] * (num[i] / den)) * sign;
    }
    if (gx != nullptr) {  // P'(x) and (x Q'(x))' from the differentiated coefficients
      horner(da, na - 1, xs, t1, m);
      horner(db, nb, xs, t2, m);
      T* __restrict gxs = gx + start;
      for (int64_t i = 0; i < m; ++i) gxs[i] = t1[i] * gn[i] + t2[i] * gq[i];
    }
    if (ga != nullptr || gb != nullptr) {  // sums of x**k times gn and gq
      for (int64_t i = 0; i < m; ++i) t1[i] = T(1);
      const int64_t top = std::max(na - 1, nb);
      for (int64_t k = 0; k <= top; ++k) {
        if (ga != nullptr && k < na) ga[k] += dot(t1, gn, m);
        if (gb != nullptr && k >= 1 && k <= nb) gb[k - 1] += dot(t1, gq, m);
        for (int64_t i = 0; i < m; ++i) t1[i] *= xs[i];
      }
    }
  }
}

Tensor rational_forward(const Tensor& x_in, const Tensor& a_in, const Tensor& b_in) {
  const Tensor x = x_in.contiguous(), a = a_in.contiguous(), b = b_in.contiguous();
  const auto layout = layout_of(x, a, 1, "rational");
  TORCH_CHECK(b.dim() == a.dim() && b.scalar_type() == x.scalar_type(),
              "rational: a and b must match");
  const int64_t na = a.size(-1), nb = b.size(-1);
  Tensor out = at::empty_like(x);
  float_only(x, "rational_forward", [&] {
    using T = float;
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        rational_values(xp + start, op + start, stop - start, ap + ch * na, na,
                        bp + ch * nb, nb);
      });
    });
  });
  return out;
}

variable_list rational_backward(const Tensor& x_in, const Tensor& grad_in,
                                const Tensor& a_in, const Tensor& b_in,
                                std::array<bool, 3> needs) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor a = a_in.contiguous(), b = b_in.contiguous();
  const auto layout = layout_of(x, a, 1, "rational");
  const int64_t na = a.size(-1), nb = b.size(-1), channels = layout.channels;
  variable_list out(3);
  if (needs[0]) out[0] = at::empty_like(x);
  float_only(x, "rational_backward", [&] {
    using T = float;
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = needs[0] ? out[0].data_ptr<T>() : nullptr;
    const T* ap = a.data_ptr<T>();
    const T* bp = b.data_ptr<T>();
    // the differentiated coefficients, per channel: k a_k and (k + 1) b_k
    std::vector<T> da(channels * std::max<int64_t>(na - 1, 1)), db(channels * nb);
    for (int64_t c = 0; c < channels; ++c) {
      for (int64_t k = 1; k < na; ++k) da[c * (na - 1) + k - 1] = T(k) * ap[c * na + k];
      for (int64_t k = 0; k < nb; ++k) db[c * nb + k] = T(k + 1) * bp[c * nb + k];
    }
    const int64_t n = x.numel();
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    const int64_t width = channels * (na + nb);  // per thread: (C, na) then (C, nb)
    std::vector<T> sums(threads * width, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* mine = sums.data() + at::get_thread_num() * width;
      channel_runs(begin, end, layout, [&](int64_t start, int64_t stop, int64_t ch) {
        rational_grads(xp + start, gp + start, gxp ? gxp + start : nullptr,
                       stop - start, ap + ch * na, na, bp + ch * nb, nb,
                       da.data() + ch * (na - 1), db.data() + ch * nb,
                       needs[1] ? mine + ch * na : nullptr,
                       needs[2] ? mine + channels * na + ch * nb : nullptr);
      });
    });
    add_thread_sums(sums, threads, width);
    if (needs[1]) {
      out[1] = at::empty_like(a);
      std::copy(sums.begin(), sums.begin() + channels * na, out[1].data_ptr<T>());
    }
    if (needs[2]) {
      out[2] = at::empty_like(b);
      std::copy(sums.begin() + channels * na, sums.begin() + width, out[2].data_ptr<T>());
    }
  });
  return out;
}

struct RationalFunction : public torch::autograd::Function<RationalFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& a,
                        const Tensor& b) {
    ctx->save_for_backward({x, a, b});
    return rational_forward(x, a, b);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return backward_of<3>(ctx, grads[0], "rational", {}, 0,
                          [](const variable_list& s, const Tensor& g, auto needs) {
                            return rational_backward(s[0], g, s[1], s[2], needs);
                          });
  }
};

// -- ReLU subnetwork: sum_j w2_j relu(w1_j x + b1_j) + b2 ---------------------
// As _relu_subnet_pieces: breakpoints, their ranks, units active per interval
// (h + 1 intervals) and the slope of each interval.
template <typename T>
struct Pieces {
  std::vector<T> brk, slope;
  std::vector<char> active;  // (h, h + 1)
};

template <typename T>
Pieces<T> relu_subnet_pieces(const T* w1, const T* b1, const T* w2, int64_t h) {
  Pieces<T> p;
  p.brk.resize(h);
  for (int64_t j = 0; j < h; ++j)
    p.brk[j] = w1[j] == T(0) ? std::numeric_limits<T>::infinity() : -b1[j] / w1[j];
  p.active.assign(h * (h + 1), 0);
  p.slope.assign(h + 1, T(0));
  for (int64_t j = 0; j < h; ++j) {
    int64_t rank = 0;  // ties broken by unit index
    for (int64_t k = 0; k < h; ++k)
      rank += p.brk[k] < p.brk[j] || (p.brk[k] == p.brk[j] && k < j);
    for (int64_t i = 0; i <= h; ++i) {
      const bool crossed = rank < i;
      const bool on = w1[j] == T(0) ? b1[j] > T(0) : crossed == (w1[j] > T(0));
      p.active[j * (h + 1) + i] = on;
    }
  }
  for (int64_t i = 0; i <= h; ++i) {
    T s = 0;
    for (int64_t j = 0; j < h; ++j)
      if (p.active[j * (h + 1) + i]) s += w1[j] * w2[j];
    p.slope[i] = s;
  }
  return p;
}

void check_subnet(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2,
                  const Tensor& b2) {
  TORCH_CHECK(w1.dim() == 1 && b1.sizes() == w1.sizes() && w2.sizes() == w1.sizes() &&
                  b2.numel() == 1,
              "relu_subnet: w1, b1, w2 must be (h,) and b2 one value");
  for (const Tensor* p : {&w1, &b1, &w2, &b2})
    TORCH_CHECK(p->scalar_type() == x.scalar_type(), "relu_subnet: mixed dtypes");
}

// By chunks, unit by unit (the inner loops vectorise).

template <typename T>
void relu_subnet_values(const T* __restrict xp, T* __restrict op, int64_t n,
                        const T* __restrict a, const T* __restrict b,
                        const T* __restrict w, int64_t h, T bias) {
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    const T* __restrict xs = xp + start;
    T* __restrict os = op + start;
    for (int64_t i = 0; i < m; ++i) os[i] = bias;
    for (int64_t j = 0; j < h; ++j) {
      const T aj = a[j], bj = b[j], wj = w[j];
      for (int64_t i = 0; i < m; ++i) os[i] += std::max(bj + aj * xs[i], T(0)) * wj;
    }
  }
}

// The backward's pass over the data: the slope of each element's interval
// (if gxp) and, per interval, the sums of grad and of grad * x into s
// (2 (h + 1)); returns the sum of grad.
template <typename T>
T relu_subnet_sums(const T* __restrict xp, const T* __restrict gp, T* __restrict gxp,
                   int64_t n, const T* __restrict brk, const T* __restrict slope,
                   int64_t h, T* __restrict s) {
  int32_t interval[kChunk];
  T total = 0;
  for (int64_t start = 0; start < n; start += kChunk) {
    const int64_t m = std::min(kChunk, n - start);
    const T* __restrict xs = xp + start;
    const T* __restrict gs = gp + start;
    // breakpoints strictly below x: h compares per element
    for (int64_t i = 0; i < m; ++i) interval[i] = 0;
    for (int64_t j = 0; j < h; ++j) {
      const T bj = brk[j];
      for (int64_t i = 0; i < m; ++i) interval[i] += xs[i] > bj;
    }
    if (gxp != nullptr) {
      T* __restrict gxs = gxp + start;
      for (int64_t i = 0; i < m; ++i) gxs[i] = gs[i] * slope[interval[i]];
    }
    for (int64_t i = 0; i < m; ++i) total += gs[i];
    if (s != nullptr) {
      for (int64_t i = 0; i < m; ++i) {
        T* si = s + 2 * interval[i];
        si[0] += gs[i];
        si[1] += gs[i] * xs[i];
      }
    }
  }
  return total;
}

Tensor relu_subnet_forward(const Tensor& x_in, const Tensor& w1_in, const Tensor& b1_in,
                           const Tensor& w2_in, const Tensor& b2) {
  const Tensor x = x_in.contiguous(), w1 = w1_in.contiguous(), b1 = b1_in.contiguous(),
               w2 = w2_in.contiguous();
  check_subnet(x, w1, b1, w2, b2);
  Tensor out = at::empty_like(x);
  float_only(x, "relu_subnet_forward", [&] {
    using T = float;
    const int64_t h = w1.numel();
    const T* a = w1.data_ptr<T>();
    const T* b = b1.data_ptr<T>();
    const T* w = w2.data_ptr<T>();
    const T bias = b2.item<T>();
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    at::parallel_for(0, x.numel(), kGrain, [&](int64_t begin, int64_t end) {
      relu_subnet_values(xp + begin, op + begin, end - begin, a, b, w, h, bias);
    });
  });
  return out;
}

variable_list relu_subnet_backward(const Tensor& x_in, const Tensor& grad_in,
                                   const Tensor& w1_in, const Tensor& b1_in,
                                   const Tensor& w2_in, const Tensor& b2,
                                   std::array<bool, 5> needs) {
  const Tensor x = x_in.contiguous(), grad = grad_in.contiguous();
  const Tensor w1 = w1_in.contiguous(), b1 = b1_in.contiguous(), w2 = w2_in.contiguous();
  variable_list out(5);
  if (needs[0]) out[0] = at::empty_like(x);
  float_only(x, "relu_subnet_backward", [&] {
    using T = float;
    const int64_t h = w1.numel(), n = x.numel();
    const T* a = w1.data_ptr<T>();
    const T* b = b1.data_ptr<T>();
    const T* w = w2.data_ptr<T>();
    const auto p = relu_subnet_pieces(a, b, w, h);
    const T* xp = x.data_ptr<T>();
    const T* gp = grad.data_ptr<T>();
    T* gxp = needs[0] ? out[0].data_ptr<T>() : nullptr;
    const bool params = needs[1] || needs[2] || needs[3];
    // per thread and interval: sum of grad, of grad * x; and the total grad
    const int64_t threads = n > kGrain ? at::get_num_threads() : 1;
    const int64_t width = 2 * (h + 1) + 1;
    std::vector<T> sums(threads * width, T(0));
    at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
      T* s = sums.data() + at::get_thread_num() * width;
      s[width - 1] += relu_subnet_sums(xp + begin, gp + begin,
                                       gxp ? gxp + begin : nullptr, end - begin,
                                       p.brk.data(), p.slope.data(), h,
                                       params ? s : nullptr);
    });
    add_thread_sums(sums, threads, width);
    if (params) {
      std::vector<double> u0(h, 0.0), u1(h, 0.0);  // per unit, where active
      for (int64_t j = 0; j < h; ++j)
        for (int64_t i = 0; i <= h; ++i)
          if (p.active[j * (h + 1) + i]) {
            u0[j] += sums[2 * i];
            u1[j] += sums[2 * i + 1];
          }
      auto param = [&](int k) {
        out[k] = at::empty_like(w1);
        return out[k].data_ptr<T>();
      };
      T* gw1 = needs[1] ? param(1) : nullptr;
      T* gb1 = needs[2] ? param(2) : nullptr;
      T* gw2 = needs[3] ? param(3) : nullptr;
      for (int64_t j = 0; j < h; ++j) {
        if (gw1) gw1[j] = static_cast<T>(w[j] * u1[j]);
        if (gb1) gb1[j] = static_cast<T>(w[j] * u0[j]);
        if (gw2) gw2[j] = static_cast<T>(a[j] * u1[j] + b[j] * u0[j]);
      }
    }
    if (needs[4]) out[4] = at::full(b2.sizes(), sums[width - 1], x.options());
  });
  return out;
}

struct ReluSubnetFunction : public torch::autograd::Function<ReluSubnetFunction> {
  static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& w1,
                        const Tensor& b1, const Tensor& w2, const Tensor& b2) {
    ctx->save_for_backward({x, w1, b1, w2, b2});
    return relu_subnet_forward(x, w1, b1, w2, b2);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto g = backward_of<5>(
        ctx, grads[0], "relu_subnet", {}, 0,
        [](const variable_list& s, const Tensor& g, auto needs) {
          return relu_subnet_backward(s[0], g, s[1], s[2], s[3], s[4], needs);
        });
    if (g[4].defined() && at::GradMode::is_enabled())  // the eager sum is 0-d
      g[4] = g[4].reshape(ctx->get_saved_variables()[4].sizes());
    return g;
  }
};

Tensor spline(const Tensor& x, const Tensor& values, double lo, double step) {
  return SplineFunction::apply(x, values, lo, step);
}

Tensor affine(const Tensor& x, const Tensor& k0, const Tensor& k1) {
  return AffineFunction::apply(x, k0, k1);
}

Tensor swish(const Tensor& x, const Tensor& beta) {
  return SwishFunction::apply(x, beta);
}

Tensor mixture(const Tensor& x, const Tensor& weight, c10::IntArrayRef basis) {
  return MixtureFunction::apply(x, weight, basis);
}

Tensor rational(const Tensor& x, const Tensor& a, const Tensor& b) {
  return RationalFunction::apply(x, a, b);
}

Tensor relu_subnet(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2,
                   const Tensor& b2) {
  return ReluSubnetFunction::apply(x, w1, b1, w2, b2);
}

}  // namespace

TORCH_LIBRARY(sklearn_learnact_native, m) {
  m.def("spline(Tensor x, Tensor values, float lo, float step) -> Tensor");
  m.def("relu_subnet(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) -> Tensor");
  m.def("rational(Tensor x, Tensor a, Tensor b) -> Tensor");
  m.def("mixture(Tensor x, Tensor weight, int[] basis) -> Tensor");
  m.def("affine(Tensor x, Tensor k0, Tensor k1) -> Tensor");
  m.def("swish(Tensor x, Tensor beta) -> Tensor");
}

TORCH_LIBRARY_IMPL(sklearn_learnact_native, CPU, m) {
  m.impl("spline", spline_forward);
  m.impl("relu_subnet", relu_subnet_forward);
  m.impl("rational", rational_forward);
  m.impl("mixture", mixture_forward);
  m.impl("affine", affine_forward);
  m.impl("swish", swish_forward);
}

TORCH_LIBRARY_IMPL(sklearn_learnact_native, AutogradCPU, m) {
  m.impl("spline", spline);
  m.impl("relu_subnet", relu_subnet);
  m.impl("rational", rational);
  m.impl("mixture", mixture);
  m.impl("affine", affine);
  m.impl("swish", swish);
}

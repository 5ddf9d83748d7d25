// The fused block runner: forward, loss, backward and optimizer step of a Sequential model.
#include "densenorm/net.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cmath>
#include <cstring>

#include "densenorm/parallel.h"

namespace densenorm {
namespace {

bool elementwise(Act a) { return a != Act::softmax; }

// ---- threading of the memory-bound passes ----------------------------------------------------
// Every pass below is split so its result is independent of the thread count: elementwise and
// row-wise passes compute each element/row exactly as one call would; per-column reductions split
// by column ranges (each lane sums its column in row order, as one call would); bn_backward_reduce
// (no ld) sums fixed kRowChunk-row chunks into partials combined in chunk order. Passes smaller
// than kParMin elements stay on the calling thread (tiny layers: the pool would cost more).
constexpr size_t kParMin = 64 * 1024;
constexpr size_t kRowChunk = 128;  // a power of two (see bn_dx)
constexpr size_t kColAlign = 16;   // widest SIMD vector, in floats
constexpr size_t kFlatAlign = 64;

// A process switch's default from the environment: on unless the variable is exactly "0".
bool env_not_zero(const char* name) {
  const char* e = std::getenv(name);
  return !(e && e[0] == '0' && e[1] == 0);
}

// Runs fn(begin, end) over [0, total) in ranges aligned to `align`: one call when the pass is
// small (`elems` < kParMin) or the pool has one thread, else a few ranges per thread.
template <class F>
void split(size_t total, size_t elems, size_t align, F&& fn) {
  const size_t nt = static_cast<size_t>(num_threads());
  if (total == 0) return;
  if (elems < kParMin || nt <= 1 || total <= align) {
    fn(size_t{0}, total);
    return;
  }
  size_t per = (total + nt * 4 - 1) / (nt * 4);
  per = (per + align - 1) / align * align;
  const size_t tasks = (total + per - 1) / per;
  if (tasks <= 1) {
    fn(size_t{0}, total);
    return;
  }
  parallel_for(tasks, [&](size_t t) {
    const size_t b = t * per;
    fn(b, std::min(total, b + per));
  });
}

void p_scale_shift_act(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ldx,
                       const float* scale, const float* shift, Act act, float* Y, size_t ldy) {
  split(rows, rows * cols, 1, [&](size_t b, size_t e) {
    K.scale_shift_act(X + b * ldx, e - b, cols, ldx, scale, shift, act, Y + b * ldy, ldy);
  });
}

void p_act_backward(const KernelTable& K, const float* dY, const float* Y, size_t n, Act act,
                    float* dX) {
  split(n, n, kFlatAlign, [&](size_t b, size_t e) { K.act_backward(dY + b, Y + b, e - b, act, dX + b); });
}

void p_col_mean_var(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld,
                    float* mean, float* var) {
  split(cols, rows * cols, kColAlign, [&](size_t b, size_t e) {
    K.col_mean_var(X + b, rows, e - b, ld, mean + b, var + b);
  });
}

// Batch mean and (biased) variance of columns [j0, j1) of A (rows × cols) from the GEMM
// epilogue's per-chunk shifted sums: the chunks are added in order in double, mean = shift +
// S1/B, var = S2/B − (S1/B)². A column whose mean is more than 4 standard deviations from its
// shift (the float chunk sums would lose its variance to cancellation) gets the exact two-pass
// col_mean_var instead. Each column's result depends on that column alone, so any split of the
// columns gives the same bits. Accepted, the relative error of var is about 17·24·2⁻²⁴ (< 3e-5),
// below that of a float two-pass over a large batch.
void bn_stats_cols(const KernelTable& K, const float* part, const float* shift, const float* A,
                   size_t rows, size_t cols, size_t j0, size_t j1, float* mean, float* var) {
  const size_t chunks = (rows + kStatRows - 1) / kStatRows;
  const double inv = 1.0 / static_cast<double>(rows);
  for (size_t j = j0; j < j1; ++j) {
    double s1 = 0, s2 = 0;
    for (size_t q = 0; q < chunks; ++q) {
      s1 += part[q * 2 * cols + j];
      s2 += part[q * 2 * cols + cols + j];
    }
    const double m = s1 * inv, v = s2 * inv - m * m;
    if (m * m <= 16.0 * v) {  // false also for NaN, and for v < 0 from rounding
      mean[j] = static_cast<float>(static_cast<double>(shift[j]) + m);
      var[j] = static_cast<float>(v);
    } else {
      K.col_mean_var(A + j, rows, 1, cols, mean + j, var + j);
    }
  }
}

void p_col_sum(const KernelTable& K, const float* X, size_t rows, size_t cols, size_t ld, float* out) {
  split(cols, rows * cols, kColAlign, [&](size_t b, size_t e) { K.col_sum(X + b, rows, e - b, ld, out + b); });
}

void p_softmax_rows(const float* x, size_t rows, size_t cols, float* y) {
  split(rows, rows * cols, 1, [&](size_t b, size_t e) { softmax_rows(x + b * cols, e - b, cols, y + b * cols); });
}

void p_softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx) {
  split(rows, rows * cols, 1, [&](size_t b, size_t e) {
    softmax_backward_rows(dy + b * cols, y + b * cols, e - b, cols, dx + b * cols);
  });
}

// Copies a [B × n] view into a contiguous buffer when the pointers differ.
void copy_rows(const float* src, float* dst, size_t count) {
  if (src != dst) std::memcpy(dst, src, count * sizeof(float));
}

// Applies `act` to X (B × n) into Y (may alias X).
void apply_act(const KernelTable& K, const float* X, size_t rows, size_t cols, Act act, float* Y) {
  if (act == Act::softmax) {
    p_softmax_rows(X, rows, cols, Y);
  } else if (act != Act::linear) {
    p_scale_shift_act(K, X, rows, cols, cols, nullptr, nullptr, act, Y, cols);
  } else {
    copy_rows(X, Y, rows * cols);
  }
}

// dX = dY ⊙ act'(Y) (Y = act output); dX may alias dY.
void act_grad(const KernelTable& K, const float* dY, const float* Y, size_t rows, size_t cols,
              Act act, float* dX) {
  if (act == Act::softmax) {
    p_softmax_backward_rows(dY, Y, rows, cols, dX);
  } else if (act != Act::linear) {
    p_act_backward(K, dY, Y, rows * cols, act, dX);
  } else {
    copy_rows(dY, dX, rows * cols);
  }
}

}  // namespace

void softmax_rows(const float* x, size_t rows, size_t cols, float* y) {
  for (size_t i = 0; i < rows; ++i) {
    const float* xr = x + i * cols;
    float* yr = y + i * cols;
    float m = xr[0];
    for (size_t j = 1; j < cols; ++j) m = std::max(m, xr[j]);
    double s = 0;
    for (size_t j = 0; j < cols; ++j) {
      float e = std::exp(xr[j] - m);
      yr[j] = e;
      s += e;
    }
    const float inv = static_cast<float>(1.0 / s);
    for (size_t j = 0; j < cols; ++j) yr[j] *= inv;
  }
}

void softmax_backward_rows(const float* dy, const float* y, size_t rows, size_t cols, float* dx) {
  for (size_t i = 0; i < rows; ++i) {
    const float* dyr = dy + i * cols;
    const float* yr = y + i * cols;
    float* dxr = dx + i * cols;
    double dot = 0;
    for (size_t j = 0; j < cols; ++j) dot += static_cast<double>(dyr[j]) * yr[j];
    const float d = static_cast<float>(dot);
    for (size_t j = 0; j < cols; ++j) dxr[j] = yr[j] * (dyr[j] - d);
  }
}

Net* Net::create(std::vector<BlockSpec> blocks, Loss loss, std::vector<ParamSlot> params,
                 OptimizerConfig opt, Status* status) {
  if (const char* err = init_kernels()) {
    *status = Status::Error(err);
    return nullptr;
  }
  if (blocks.empty()) {
    *status = Status::Error("a model needs at least one layer");
    return nullptr;
  }
  size_t width = 0;
  for (size_t k = 0; k < blocks.size(); ++k) {
    BlockSpec& b = blocks[k];
    const std::string where = "block " + std::to_string(k);
    if (b.in == 0 || b.out == 0) {
      *status = Status::Error(where + ": feature counts must be positive");
      return nullptr;
    }
    if (k > 0 && blocks[k - 1].out != b.in) {
      *status = Status::Error(where + ": expects " + std::to_string(b.in) +
                              " input features but the previous block gives " +
                              std::to_string(blocks[k - 1].out));
      return nullptr;
    }
    if (!b.kernel && b.in != b.out) {
      *status = Status::Error(where + ": without a dense kernel in and out must match");
      return nullptr;
    }
    if (b.kernel && b.dense_trainable && !b.grad_kernel) {
      *status = Status::Error(where + ": trainable dense kernel needs a gradient buffer");
      return nullptr;
    }
    if (b.has_bn && (!b.moving_mean || !b.moving_var || (b.cumulative && !b.num_batches))) {
      *status = Status::Error(where + ": batch normalization needs its moving statistics");
      return nullptr;
    }
    // Without batch norm the two activations are consecutive; keep the last one as post_act so
    // the loss can always read the final activation's input (the logits).
    if (!b.has_bn && b.post_act == Act::linear) {
      b.post_act = b.pre_act;
      b.pre_act = Act::linear;
    }
    width = std::max({width, b.in, b.out});
  }
  for (const ParamSlot& p : params) {
    if (!p.value || !p.grad || p.size == 0) {
      *status = Status::Error("parameter slot without value or gradient");
      return nullptr;
    }
    if ((opt.type == Optim::adam && (!p.state1 || !p.state2)) ||
        (opt.type == Optim::rmsprop && (!p.state1 || (opt.momentum != 0 && !p.state2))) ||
        (opt.type == Optim::sgd && opt.momentum != 0 && !p.state1)) {
      *status = Status::Error("parameter slot lacks optimizer state");
      return nullptr;
    }
  }
  Net* net = new Net();
  net->blocks_ = std::move(blocks);
  net->loss_ = loss;
  net->params_ = std::move(params);
  net->opt_ = opt;
  net->max_width_ = width;
  *status = Status::Ok();
  return net;
}

void Net::ensure(Workspace& ws, size_t batch, bool full) const {
  if (ws.batch >= batch && ws.b.size() == blocks_.size() && (ws.full || !full)) return;
  const size_t B = std::max(batch, ws.batch);
  ws.batch = B;
  ws.full = ws.full || full;
  ws.b.resize(blocks_.size());
  for (size_t k = 0; k < blocks_.size(); ++k) {
    const BlockSpec& s = blocks_[k];
    BlockWs& w = ws.b[k];
    w.a.resize(B * s.out);
    w.y.resize(B * s.out);
    if (k + 1 == blocks_.size()) w.u.resize(B * s.out);
    for (auto* v : {&w.mean, &w.var, &w.invstd, &w.scale, &w.shift, &w.sum_du, &w.sum_du_xhat,
                    &w.stat_shift})
      v->resize(s.out);
  }
  ws.g0.resize(B * max_width_);  // evaluate's loss gradient scratch too
  if (!ws.full) return;
  ws.g1.resize(B * max_width_);
  ws.d.resize(B * max_width_);
  ws.part.resize((B + kRowChunk - 1) / kRowChunk * 2 * max_width_);
  ws.dxs.resize(4 * max_width_);
  ws.stat_part.resize((B + kStatRows - 1) / kStatRows * 2 * max_width_);
}

Status Net::check_batch(size_t batch, bool training) const {
  if (batch == 0) return Status::Error("Expected at least 1 row for x but received 0");
  if (training && batch < 2) {
    for (const BlockSpec& b : blocks_)
      if (b.has_bn && b.bn_trainable)
        return Status::Error(
            "Expected a training batch of at least 2 rows for batch normalization but received 1 "
            "(batch statistics of one row are undefined)");
  }
  return Status::Ok();
}

// ---- Packed kernels ------------------------------------------------------------------------------
// Every GEMM packs op(B) into the microkernel's panels as it goes. In training the kernel changes
// every step, so that is the cost of a copy per step; in inference it is the same work on every
// call: 8% of W2's batch-256 prediction on 2 threads (perf). So inference keeps one packed copy per
// Dense kernel (KernelTable::gemm_pack_b), repacked when weights_version_ moved: the optimizer
// bumps it; the binding's weightsChanged() bumps it for writes from JavaScript (the façade calls it
// when a layer's setWeightValues ran). Few-row products (batch <= 8) stream B on their own path
// and never pack, so they do not use it. Same bits as packing per call.
namespace {
constexpr size_t kPackedMinRows = 8;
std::atomic<int> g_packed_inference{-1};  // -1: DENSENORM_PACKED_INFERENCE decides
bool packed_inference_enabled() {
  static const bool env_on = env_not_zero("DENSENORM_PACKED_INFERENCE");
  const int v = g_packed_inference.load(std::memory_order_relaxed);
  return v < 0 ? env_on : v == 1;
}
}  // namespace

void set_packed_inference(int on) {
  g_packed_inference.store(on < 0 ? -1 : on ? 1 : 0, std::memory_order_relaxed);
}

std::shared_ptr<std::vector<float>> Net::packed_kernel(size_t k, const float** data) {
  const BlockSpec& s = blocks_[k];
  const KernelTable& K = kernels();
  std::lock_guard<std::mutex> lk(packed_mu_);
  if (packed_.size() != blocks_.size()) packed_.resize(blocks_.size());
  PackedKernel& p = packed_[k];
  const uint64_t v = weights_version_.load(std::memory_order_acquire);
  if (!p.buf || p.version != v) {
    // A new buffer each time (not in place): a predict on another thread may still hold the old.
    auto buf = std::make_shared<std::vector<float>>(K.gemm_packed_b_size(s.in, s.out) + 16);
    uintptr_t a = reinterpret_cast<uintptr_t>(buf->data());
    a = (a + 63) & ~static_cast<uintptr_t>(63);
    float* d = reinterpret_cast<float*>(a);
    K.gemm_pack_b(false, s.kernel, s.out, s.in, s.out, d);
    p.buf = std::move(buf);
    p.data = d;
    p.version = v;
  }
  *data = p.data;
  return p.buf;
}

Status Net::forward(Workspace& ws, const float* x, size_t B, int mode, size_t upto,
                    bool keep_logits) {
  const KernelTable& K = kernels();
  ensure(ws, B, mode >= 1);
  const size_t last = blocks_.size() - 1;
  for (size_t k = 0; k < upto; ++k) {
    const BlockSpec& s = blocks_[k];
    BlockWs& w = ws.b[k];
    const float* X = k == 0 ? x : ws.b[k - 1].y.data();
    const size_t n = s.out;
    const bool bn_batch = s.has_bn && mode >= 1 && s.bn_trainable;
    // Before batch statistics a bias only shifts the mean: skip its work, keep its value.
    const bool skip_bias = bn_batch && s.pre_act == Act::linear && s.bias;

    // Dense + pre-activation → A (the batch-norm input). When A is the product itself (no
    // activation, no bias applied), the GEMM's store step also sums each feature's values per
    // 24-row chunk, shifted by the moving mean (the batch mean's best estimate before the step),
    // so the batch statistics need no second pass over A unless the shift turns out poor.
    bool stats_in_gemm = false;
    const bool is_last = k == last;
    bool fused = false;
    if (s.kernel) {
      stats_in_gemm = bn_batch && s.pre_act == Act::linear && (!s.bias || skip_bias);
      // Then the GEMM output is all the batch norm needs: statistics, scale/shift and an
      // elementwise activation run per column range as soon as those columns are done (on 2
      // threads each thread normalizes the columns it computed, while they are in its cache).
      fused = stats_in_gemm && elementwise(s.post_act) &&
              !(is_last && keep_logits && s.post_act != Act::linear);
      GemmColStats gs{};
      if (stats_in_gemm) {
        for (size_t j = 0; j < n; ++j) {
          const float m = s.moving_mean[j] - (s.bias ? s.bias[j] : 0.0f);  // the moving mean has the bias
          w.stat_shift[j] = std::isfinite(m) ? m : 0.0f;
        }
        gs = GemmColStats{w.stat_shift.data(), ws.stat_part.data(), n};
      }
      // One captured pointer, so the std::function keeps it inline (no allocation per step).
      struct Ctx { const KernelTable& K; const BlockSpec& s; BlockWs& w; const float* part; size_t B, n; }
          ctx{K, s, w, ws.stat_part.data(), B, n};
      const ColsDone bn_cols = [c = &ctx](size_t j0, size_t j1) {
        BlockWs& w = c->w;
        const BlockSpec& s = c->s;
        const float* A = w.a.data();
        bn_stats_cols(c->K, c->part, w.stat_shift.data(), A, c->B, c->n, j0, j1, w.mean.data(),
                      w.var.data());
        for (size_t j = j0; j < j1; ++j) {
          w.invstd[j] = 1.0f / std::sqrt(w.var[j] + s.epsilon);
          const float g = s.gamma ? s.gamma[j] : 1.0f;
          w.scale[j] = g * w.invstd[j];
          w.shift[j] = (s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j];
        }
        c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, w.scale.data() + j0,
                             w.shift.data() + j0, s.post_act, w.y.data() + j0, c->n);
      };
      // Inference (moving statistics): scale and shift are known before the product, so the
      // bias, scale/shift and activation run per column range too, on columns still in cache.
      const bool fused_infer = s.has_bn && !bn_batch && s.pre_act == Act::linear &&
                               elementwise(s.post_act) &&
                               !(is_last && keep_logits && s.post_act != Act::linear);
      if (fused_infer) {
        for (size_t j = 0; j < n; ++j) {
          w.mean[j] = s.moving_mean[j];
          w.invstd[j] = 1.0f / std::sqrt(s.moving_var[j] + s.epsilon);
          const float g = s.gamma ? s.gamma[j] : 1.0f;
          w.scale[j] = g * w.invstd[j];
          w.shift[j] = (s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j];
        }
      }
      // The same operations as the unfused passes below, in the same order (bit-identical).
      const ColsDone infer_cols = [c = &ctx](size_t j0, size_t j1) {
        BlockWs& w = c->w;
        const BlockSpec& s = c->s;
        float* A = w.a.data();
        if (s.bias)
          c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, nullptr, s.bias + j0, Act::linear,
                               A + j0, c->n);
        c->K.scale_shift_act(A + j0, c->B, j1 - j0, c->n, w.scale.data() + j0,
                             w.shift.data() + j0, s.post_act, w.y.data() + j0, c->n);
      };
      const ColsDone* done = fused ? &bn_cols : fused_infer ? &infer_cols : nullptr;
      const float* bp = nullptr;
      std::shared_ptr<std::vector<float>> hold;
      if (mode == 0 && B > kPackedMinRows && packed_inference_enabled()) hold = packed_kernel(k, &bp);
      if (bp)
        gemm_prepacked(false, B, n, s.in, X, s.in, bp, w.a.data(), n, done);
      else
        gemm(false, false, B, n, s.in, X, s.in, s.kernel, n, w.a.data(), n, false,
             stats_in_gemm ? &gs : nullptr, done);
      fused = fused || fused_infer;
      const float* shift = (s.bias && !skip_bias && !fused_infer) ? s.bias : nullptr;
      if (shift || (s.pre_act != Act::linear && elementwise(s.pre_act)))
        p_scale_shift_act(K, w.a.data(), B, n, n, nullptr, shift,
                          elementwise(s.pre_act) ? s.pre_act : Act::linear, w.a.data(), n);
      if (s.pre_act == Act::softmax) p_softmax_rows(w.a.data(), B, n, w.a.data());
    } else {
      apply_act(K, X, B, n, s.pre_act, w.a.data());
    }
    const float* A = w.a.data();

    if (fused) continue;  // statistics, normalization and activation ran in cols_done
    float* Y = w.y.data();
    if (s.has_bn) {
      if (bn_batch) {
        if (stats_in_gemm)
          split(n, B * n, kColAlign, [&](size_t b, size_t e) {
            bn_stats_cols(K, ws.stat_part.data(), w.stat_shift.data(), A, B, n, b, e,
                          w.mean.data(), w.var.data());
          });
        else
          p_col_mean_var(K, A, B, n, n, w.mean.data(), w.var.data());
        for (size_t j = 0; j < n; ++j) w.invstd[j] = 1.0f / std::sqrt(w.var[j] + s.epsilon);
      } else {
        for (size_t j = 0; j < n; ++j) {
          w.mean[j] = s.moving_mean[j];
          w.invstd[j] = 1.0f / std::sqrt(s.moving_var[j] + s.epsilon);
        }
      }
      for (size_t j = 0; j < n; ++j) {
        const float g = s.gamma ? s.gamma[j] : 1.0f;
        w.scale[j] = g * w.invstd[j];
        w.shift[j] = (s.beta ? s.beta[j] : 0.0f) - w.mean[j] * w.scale[j];
      }
      if (is_last && keep_logits && s.post_act != Act::linear) {
        p_scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), Act::linear, w.u.data(), n);
        apply_act(K, w.u.data(), B, n, s.post_act, Y);
      } else if (elementwise(s.post_act)) {
        p_scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), s.post_act, Y, n);
      } else {
        p_scale_shift_act(K, A, B, n, n, w.scale.data(), w.shift.data(), Act::linear, Y, n);
        p_softmax_rows(Y, B, n, Y);
      }
    } else {
      apply_act(K, A, B, n, s.post_act, Y);
    }
  }
  return Status::Ok();
}

// bn_backward_reduce over fixed kRowChunk-row chunks (when the pass is big enough): each chunk
// writes its dU rows and its partial sums to ws.part; the partials are then added in chunk order,
// so the sums are the same for every thread count.
void Net::bn_reduce(const KernelTable& K, Workspace& ws, const float* dY, const float* Y,
                    const float* Z, size_t rows, size_t cols, Act act, const float* mean,
                    const float* invstd, float* dU, float* sum_du, float* sum_du_xhat) {
  if (rows * cols < kParMin || rows <= kRowChunk) {
    K.bn_backward_reduce(dY, Y, Z, rows, cols, act, mean, invstd, dU, sum_du, sum_du_xhat);
    return;
  }
  const size_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  float* part = ws.part.data();
  parallel_for(chunks, [&](size_t c) {
    const size_t r0 = c * kRowChunk, o = r0 * cols;
    const size_t r = std::min(kRowChunk, rows - r0);
    float* p = part + c * 2 * cols;
    K.bn_backward_reduce(dY + o, Y + o, Z + o, r, cols, act, mean, invstd, dU + o, p, p + cols);
  });
  split(cols, chunks * cols * 2, kColAlign, [&](size_t b, size_t e) {
    for (size_t j = b; j < e; ++j) {
      float s1 = part[j], s2 = part[cols + j];
      for (size_t c = 1; c < chunks; ++c) {
        s1 += part[c * 2 * cols + j];
        s2 += part[c * 2 * cols + cols + j];
      }
      sum_du[j] = s1;
      sum_du_xhat[j] = s2;
    }
  });
}

// bn_backward_dx split by rows, bit-identical to one call: the kernel scales the sums by
// 1/rows, so a kRowChunk-row call (a power of two: exact scaling) gets the sums pre-scaled as
// fl(sum·(1/B))·kRowChunk, and a leftover row (rows = 1) gets fl(sum·(1/B)).
void Net::bn_dx(const KernelTable& K, Workspace& ws, const float* dU, const float* Z, size_t rows,
                size_t cols, const float* mean, const float* invstd, const float* gamma,
                const float* sum_du, const float* sum_du_xhat, float* dZ) {
  if (rows * cols < kParMin || rows <= kRowChunk || num_threads() <= 1) {
    K.bn_backward_dx(dU, Z, rows, cols, mean, invstd, gamma, sum_du, sum_du_xhat, dZ);
    return;
  }
  float* b1 = ws.dxs.data();
  float* b2 = b1 + cols;
  float* c1 = b2 + cols;
  float* c2 = c1 + cols;
  const float inv = 1.0f / static_cast<float>(rows);
  const float chunk = static_cast<float>(kRowChunk);
  constexpr float kBig = 3.0e38f / static_cast<float>(kRowChunk);
  bool ok = true;
  for (size_t j = 0; j < cols; ++j) {
    b1[j] = sum_du[j] * inv;
    b2[j] = sum_du_xhat[j] * inv;
    c1[j] = b1[j] * chunk;
    c2[j] = b2[j] * chunk;
    ok = ok && std::fabs(b1[j]) < kBig && std::fabs(b2[j]) < kBig;
  }
  if (!ok) {  // pre-scaling could overflow: one call
    K.bn_backward_dx(dU, Z, rows, cols, mean, invstd, gamma, sum_du, sum_du_xhat, dZ);
    return;
  }
  split(rows, rows * cols, kRowChunk, [&](size_t b, size_t e) {
    size_t r = b;
    for (; r + kRowChunk <= e; r += kRowChunk) {
      const size_t o = r * cols;
      K.bn_backward_dx(dU + o, Z + o, kRowChunk, cols, mean, invstd, gamma, c1, c2, dZ + o);
    }
    for (; r < e; ++r) {
      const size_t o = r * cols;
      K.bn_backward_dx(dU + o, Z + o, 1, cols, mean, invstd, gamma, b1, b2, dZ + o);
    }
  });
}

// Whether a layer's two backward products, dW = Xᵀ·dZ and dX = dZ·Wᵀ (the same 2·B·in·out flops
// each), run better side by side, one thread each, than one after the other, each split by the
// GEMM driver: on exactly 2 threads, while a product is too small to split well (< 4 MFLOP) but
// big enough to pay for waking the pool (>= 0.2 MFLOP).
static bool pair_concurrently(size_t batch, size_t in, size_t out) {
  const double flops = 2.0 * static_cast<double>(batch) * static_cast<double>(in) *
                       static_cast<double>(out);
  return num_threads() == 2 && flops >= 2e5 && flops < 4e6;
}

void Net::backward(Workspace& ws, const float* x, size_t B, float* cur, bool dy_is_logits,
                   float* dx) {
  const KernelTable& K = kernels();
  const size_t last = blocks_.size() - 1;
  for (size_t kk = blocks_.size(); kk-- > 0;) {
    const BlockSpec& s = blocks_[kk];
    BlockWs& w = ws.b[kk];
    const size_t n = s.out;
    const float* X = kk == 0 ? x : ws.b[kk - 1].y.data();
    const float* A = w.a.data();
    const float* Y = w.y.data();
    const Act post = (kk == last && dy_is_logits) ? Act::linear : s.post_act;
    float* d = ws.d.data();
    const bool bn_batch = s.has_bn && s.bn_trainable;
    const bool skip_bias = bn_batch && s.pre_act == Act::linear && s.bias;

    // Post-activation and batch norm → dA in d.
    if (bn_batch) {
      const float* src = cur;
      Act pe = post;
      if (post == Act::softmax) {
        p_softmax_backward_rows(cur, Y, B, n, d);
        src = d;
        pe = Act::linear;
      }
      bn_reduce(K, ws, src, Y, A, B, n, pe, w.mean.data(), w.invstd.data(), d, w.sum_du.data(),
                w.sum_du_xhat.data());
      if (s.grad_gamma) std::memcpy(s.grad_gamma, w.sum_du_xhat.data(), n * sizeof(float));
      if (s.grad_beta) std::memcpy(s.grad_beta, w.sum_du.data(), n * sizeof(float));
      bn_dx(K, ws, d, A, B, n, w.mean.data(), w.invstd.data(), s.gamma, w.sum_du.data(),
            w.sum_du_xhat.data(), d);
    } else {
      act_grad(K, cur, Y, B, n, post, d);
      if (s.has_bn)  // frozen: a fixed affine map
        p_scale_shift_act(K, d, B, n, n, w.scale.data(), nullptr, Act::linear, d, n);
    }
    // Pre-activation → dZ in d.
    if (s.pre_act != Act::linear) act_grad(K, d, A, B, n, s.pre_act, d);

    float* next = (cur == ws.g0.data()) ? ws.g1.data() : ws.g0.data();
    float* target = kk == 0 ? dx : next;
    // dW = Xᵀ·dZ (+ the bias gradient) and dX = dZ·Wᵀ; alone: on the calling thread only.
    auto weight_grads = [&](bool alone) {
      if (alone) K.gemm(true, false, s.in, n, B, X, s.in, d, n, s.grad_kernel, n, false, nullptr);
      else gemm(true, false, s.in, n, B, X, s.in, d, n, s.grad_kernel, n, false);
      if (!s.grad_bias) return;
      if (skip_bias) std::memset(s.grad_bias, 0, n * sizeof(float));
      else if (alone) K.col_sum(d, B, n, n, s.grad_bias);
      else p_col_sum(K, d, B, n, n, s.grad_bias);
    };
    auto input_grad = [&](bool alone) {
      if (alone) K.gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false, nullptr);
      else gemm(false, true, B, s.in, n, d, n, s.kernel, n, target, s.in, false);
    };
    if (!s.kernel) {
      if (target) copy_rows(d, target, B * n);
    } else if (s.dense_trainable && target && pair_concurrently(B, s.in, n)) {
      // dW and dX at once, one thread each (W1's 100-wide layers: two 1.2 MFLOP products, which
      // split one after the other cost two pool round trips and half-width tiles).
      parallel_for(2, [&](size_t t) {
        if (t == 0) weight_grads(true);
        else input_grad(true);
      });
    } else {
      if (s.dense_trainable) weight_grads(false);
      if (target) input_grad(false);
    }
    cur = next;
  }
}

Status Net::loss_forward(const Workspace& ws, const float* t, size_t B, StepResult* res,
                         float* grad, bool* grad_is_logits) const {
  const BlockSpec& s = blocks_.back();
  const BlockWs& w = ws.b.back();
  const size_t C = s.out;
  const float* Y = w.y.data();
  const Act fa = s.post_act;
  // The final activation's input: u when batch norm precedes it, else a.
  const float* L = s.has_bn ? w.u.data() : w.a.data();
  double loss = 0, correct = 0, count = 0;
  const double invB = 1.0 / static_cast<double>(B);
  *grad_is_logits = false;
  auto argmax = [C](const float* r) {
    size_t m = 0;
    for (size_t j = 1; j < C; ++j)
      if (r[j] > r[m]) m = j;
    return m;
  };
  constexpr float kEps = 1e-7f;  // Keras's epsilon for probabilities
  switch (loss_) {
    case Loss::categorical_crossentropy:
    case Loss::sparse_categorical_crossentropy: {
      const bool sparse = loss_ == Loss::sparse_categorical_crossentropy;
      for (size_t i = 0; i < B; ++i) {
        const float* yr = Y + i * C;
        float* gr = grad + i * C;
        size_t label = 0;
        if (sparse) {
          const float lf = t[i];
          if (!(lf >= 0) || lf >= static_cast<float>(C) || lf != std::floor(lf))
            return Status::Error("Expected class ids in [0, " + std::to_string(C) +
                                 ") for y but received " + std::to_string(lf) + " at row " +
                                 std::to_string(i));
          label = static_cast<size_t>(lf);
        }
        const float* tr = sparse ? nullptr : t + i * C;
        auto target = [&](size_t j) { return sparse ? (j == label ? 1.0f : 0.0f) : tr[j]; };
        if (fa == Act::softmax) {
          const float* lr = L + i * C;
          float m = lr[0];
          for (size_t j = 1; j < C; ++j) m = std::max(m, lr[j]);
          double se = 0;
          for (size_t j = 0; j < C; ++j) se += std::exp(static_cast<double>(lr[j] - m));
          const double lse = m + std::log(se);
          for (size_t j = 0; j < C; ++j) {
            const float tj = target(j);
            if (tj != 0) loss -= tj * (lr[j] - lse);
            gr[j] = static_cast<float>((yr[j] - tj) * invB);
          }
        } else {
          for (size_t j = 0; j < C; ++j) {
            const float tj = target(j);
            const float p = yr[j];
            const float pc = std::min(std::max(p, kEps), 1.0f - kEps);
            if (tj != 0) loss -= tj * std::log(static_cast<double>(pc));
            gr[j] = (p > kEps && p < 1.0f - kEps) ? static_cast<float>(-tj / pc * invB) : 0.0f;
          }
        }
        const size_t truth = sparse ? label : argmax(tr);
        correct += argmax(yr) == truth ? 1 : 0;
        count += 1;
      }
      *grad_is_logits = fa == Act::softmax;
      loss *= invB;
      break;
    }
    case Loss::binary_crossentropy: {
      const double invN = invB / static_cast<double>(C);
      for (size_t i = 0; i < B * C; ++i) {
        const float tj = t[i], p = Y[i];
        if (fa == Act::sigmoid) {
          const double l = L[i];
          loss += std::max(l, 0.0) - l * tj + std::log1p(std::exp(-std::fabs(l)));
          grad[i] = static_cast<float>((p - tj) * invN);
        } else {
          const float pc = std::min(std::max(p, kEps), 1.0f - kEps);
          loss -= tj * std::log(static_cast<double>(pc)) +
                  (1 - tj) * std::log(1.0 - static_cast<double>(pc));
          grad[i] = (p > kEps && p < 1.0f - kEps)
                        ? static_cast<float>((pc - tj) / (pc * (1.0 - pc)) * invN)
                        : 0.0f;
        }
        correct += ((p > 0.5f) == (tj > 0.5f)) ? 1 : 0;
        count += 1;
      }
      *grad_is_logits = fa == Act::sigmoid;
      loss *= invN;
      break;
    }
    case Loss::mean_squared_error: {
      const double invN = invB / static_cast<double>(C);
      for (size_t i = 0; i < B * C; ++i) {
        const double e = static_cast<double>(Y[i]) - t[i];
        loss += e * e;
        grad[i] = static_cast<float>(2.0 * e * invN);
      }
      loss *= invN;
      for (size_t i = 0; i < B; ++i) {
        if (C == 1) correct += ((Y[i] > 0.5f) == (t[i] > 0.5f)) ? 1 : 0;
        else correct += argmax(Y + i * C) == argmax(t + i * C) ? 1 : 0;
        count += 1;
      }
      break;
    }
  }
  res->loss = loss;
  res->correct = correct;
  res->count = count;
  if (!std::isfinite(loss)) return Status::Error("the loss is not finite (" + std::to_string(loss) + ")");
  return Status::Ok();
}

Status Net::predict(const float* x, size_t batch, float* out) {
  Status st = check_batch(batch, false);
  if (!st.ok) return st;
  std::unique_ptr<Workspace> ws = acquire_infer_ws();
  st = forward(*ws, x, batch, 0, blocks_.size(), false);
  if (st.ok) std::memcpy(out, ws->b.back().y.data(), batch * out_features() * sizeof(float));
  release_infer_ws(std::move(ws));
  return st;
}

Status Net::evaluate(const float* x, const float* y, size_t batch, StepResult* res) {
  Status st = check_batch(batch, false);
  if (!st.ok) return st;
  std::unique_ptr<Workspace> ws = acquire_infer_ws();
  st = forward(*ws, x, batch, 0, blocks_.size(), true);
  bool logits = false;
  if (st.ok) st = loss_forward(*ws, y, batch, res, ws->g0.data(), &logits);
  release_infer_ws(std::move(ws));
  return st;
}

std::unique_ptr<Net::Workspace> Net::acquire_infer_ws() {
  {
    std::lock_guard<std::mutex> lock(pool_mu_);
    if (!pool_.empty()) {
      std::unique_ptr<Workspace> ws = std::move(pool_.back());
      pool_.pop_back();
      return ws;
    }
  }
  return std::make_unique<Workspace>();
}

void Net::release_infer_ws(std::unique_ptr<Workspace> ws) {
  // Keep a few (one per concurrent caller seen, bounded): a burst of parallel predictAsync calls
  // does not leave its peak memory behind for ever.
  constexpr size_t kMaxPooled = 4;
  std::lock_guard<std::mutex> lock(pool_mu_);
  if (pool_.size() < kMaxPooled) pool_.push_back(std::move(ws));
}

Status Net::forward_train(const float* x, size_t batch, bool update_stats, float* out) {
  Status st = check_batch(batch, true);
  if (!st.ok) return st;
  st = forward(train_ws_, x, batch, 1, blocks_.size(), false);
  if (st.ok && update_stats) update_moving(train_ws_, batch);
  if (st.ok) std::memcpy(out, train_ws_.b.back().y.data(), batch * out_features() * sizeof(float));
  return st;
}

Status Net::forward_backward(const float* x, size_t batch, const float* dy, float* dx) {
  Status st = check_batch(batch, true);
  if (!st.ok) return st;
  st = forward(train_ws_, x, batch, 1, blocks_.size(), false);
  if (!st.ok) return st;
  std::memcpy(train_ws_.g0.data(), dy, batch * out_features() * sizeof(float));
  backward(train_ws_, x, batch, train_ws_.g0.data(), false, dx);
  return Status::Ok();
}

Status Net::loss_and_grad(const float* x, const float* y, size_t batch, bool update_stats,
                          StepResult* res) {
  Status st = check_batch(batch, true);
  if (!st.ok) return st;
  st = forward(train_ws_, x, batch, 1, blocks_.size(), true);
  if (!st.ok) return st;
  bool logits = false;
  st = loss_forward(train_ws_, y, batch, res, train_ws_.g0.data(), &logits);
  if (!st.ok) return st;
  if (update_stats) update_moving(train_ws_, batch);
  backward(train_ws_, x, batch, train_ws_.g0.data(), logits, nullptr);
  return Status::Ok();
}

Status Net::train_step_once(const float* x, const float* y, size_t batch, double iteration,
                            StepResult* res) {
  Status st = loss_and_grad(x, y, batch, true, res);
  if (!st.ok) return st;
  optimizer_step(iteration);
  return Status::Ok();
}

// ---- Step threading --------------------------------------------------------------------------
// Whether a step gains from the pool depends on the machine as much as on the model: on a Zen 3
// (2 cores sharing an L3) W1's 1-10 MFLOP products gained 8-10% from 2 threads; on a Zen 5 VM
// whose 2 vCPUs are ~400 ns apart (round trip) the same split step took 240-270 µs against 202 on
// one thread in one hour and 137 in another, while W2 gains 1.6x there. No fixed threshold is
// right for all of these, so train_step measures: for each (batch size, pool size), after 2
// warm-up steps, up to kTunePairs pairs of trials, one with the pool (woken first) and one inside
// a SerialScope (order alternating; a trial is two steps, the second timed), then keeps the faster
// by median (early after 2 pairs when the slower one's best is over 1.3x the faster one's worst,
// at once when a pool step takes over 20 ms: big steps always gain from the pool). Both ways give
// the same bits (every split is bit-identical), so the choice never changes results, only speed.
// The choice is measured again every kRetuneSteps steps (the host's load changes).
// DENSENORM_STEP_TUNE=0 (or set_step_tuning(false)) turns it off: always the pool.
namespace {
std::atomic<int> g_step_tune{-1};  // -1: DENSENORM_STEP_TUNE decides
bool step_tune_enabled() {
  static const bool env_on = env_not_zero("DENSENORM_STEP_TUNE");
  const int v = g_step_tune.load(std::memory_order_relaxed);
  return v < 0 ? env_on : v == 1;
}
double median_of(const double* v, int n) {
  double t[16];
  std::copy(v, v + n, t);
  std::sort(t, t + n);
  return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}
}  // namespace

void set_step_tuning(int on) { g_step_tune.store(on < 0 ? -1 : on ? 1 : 0, std::memory_order_relaxed); }

const char* Net::step_threading() const {
  if (tune_.threads == 0) return "none";
  if (tune_.threads == 1) return "single";
  return tune_.state == 0 ? "tuning" : tune_.state == 1 ? "pool" : "one thread";
}

Status Net::train_step(const float* x, const float* y, size_t batch, double iteration,
                       StepResult* res) {
  const int pt = pool_threads();
  const bool en = step_tune_enabled();
  if (tune_.batch != batch || tune_.threads != pt || tune_.enabled != en) {
    tune_ = StepTune{};
    tune_.batch = batch;
    tune_.threads = pt;
    tune_.enabled = en;
    tune_.state = pt <= 1 || !en ? 1 : 0;
  }
  if (tune_.state != 0) {
    // Measured again every kRetuneSteps steps: the host changes (on the Zen 5 VM the same W1
    // step on 2 threads took 244 µs one hour and 137 µs the next, against ~200 on one).
    if (tune_.threads > 1 && tune_.enabled && ++tune_.since >= kRetuneSteps) {
      tune_.state = 0;
      tune_.since = 0;
      tune_.n = 2;  // no warm-ups: the workspaces exist
      tune_.count[0] = tune_.count[1] = 0;
    }
    SerialScope one(tune_.state == 2);
    return train_step_once(x, y, batch, iteration, res);
  }
  const int i = tune_.n++;
  // Warm-ups (i = 0, 1: workspaces, caches), then pairs of trials: pool first in even pairs, last
  // in odd. A trial is two steps in one mode, the second one timed: the first step after a switch
  // pays for moving the data the other mode left in the other core's cache (half of W1's 300 KB
  // of weights and gradients on 2 threads), which steady steps in either mode never pay. Timing
  // every step (one per trial) picked the pool for W1 in 1 of 6 fresh models on the Zen 5 VM
  // while the vCPUs were ~450 ns apart (pool 249 µs, one thread 197).
  const int j = i - 2, trial = j / 2, pair = trial / 2;
  const bool lead = j % 2 == 0;
  const bool serial = i < 2 ? i == 1 : ((trial & 1) ^ (pair & 1)) == 1;
  // A pool step right after a one-thread step would find the workers asleep (they block after
  // 200 µs idle; waking them costs tens of µs), which steady pool steps never pay: wake them first.
  if (!serial) parallel_for(static_cast<size_t>(pt), [](size_t) {});
  const auto t0 = std::chrono::steady_clock::now();
  Status st;
  {
    SerialScope one(serial);
    st = train_step_once(x, y, batch, iteration, res);
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!st.ok || i < 2) return st;
  if (!serial && ms > 20.0) {
    tune_.state = 1;
    return st;
  }
  if (lead) return st;
  const int m = serial ? 1 : 0;
  if (tune_.count[m] < kTunePairs) tune_.ms[m][tune_.count[m]++] = ms;
  const int np = std::min(tune_.count[0], tune_.count[1]);
  if (np >= 2 && tune_.count[0] == tune_.count[1]) {
    const double* p = tune_.ms[0];
    const double* o = tune_.ms[1];
    const double pmin = *std::min_element(p, p + np), pmax = *std::max_element(p, p + np);
    const double omin = *std::min_element(o, o + np), omax = *std::max_element(o, o + np);
    if (omin > 1.3 * pmax) tune_.state = 1;
    else if (pmin > 1.3 * omax) tune_.state = 2;
    else if (np == kTunePairs) tune_.state = median_of(o, np) < median_of(p, np) ? 2 : 1;
  }
  return st;
}

void Net::update_moving(const Workspace& ws, size_t B) {
  const float unbias = static_cast<float>(B) / static_cast<float>(B - 1);
  for (size_t k = 0; k < blocks_.size(); ++k) {
    const BlockSpec& s = blocks_[k];
    if (!s.has_bn || !s.bn_trainable) continue;
    const BlockWs& w = ws.b[k];
    const bool skip_bias = s.pre_act == Act::linear && s.bias;  // mean excludes the bias
    const float m = s.cumulative ? static_cast<float>(1.0 / ++*s.num_batches) : 1.0f - s.momentum;
    for (size_t j = 0; j < s.out; ++j) {
      const float bm = w.mean[j] + (skip_bias ? s.bias[j] : 0.0f);
      const float bv = w.var[j] * unbias;
      s.moving_mean[j] += (bm - s.moving_mean[j]) * m;
      s.moving_var[j] += (bv - s.moving_var[j]) * m;
    }
  }
}

void Net::optimizer_step(double t) {
  weights_version_.fetch_add(1, std::memory_order_acq_rel);  // packed kernels are stale
  const KernelTable& K = kernels();
  const OptimizerConfig& o = opt_;
  float lr_t = 0.0f;
  if (o.type == Optim::adam) {
    const double b1t = std::pow(static_cast<double>(o.beta1), t);
    const double b2t = std::pow(static_cast<double>(o.beta2), t);
    lr_t = static_cast<float>(o.learning_rate * std::sqrt(1 - b2t) / (1 - b1t));
  }
  // Elements [b, e) of one parameter (elementwise: the same result however they are split).
  auto update = [&](const ParamSlot& slot, size_t b, size_t e) {
    float* s1 = slot.state1 ? slot.state1 + b : nullptr;
    float* s2 = slot.state2 ? slot.state2 + b : nullptr;
    switch (o.type) {
      case Optim::sgd:
        K.sgd_update(e - b, slot.value + b, slot.grad + b, s1, o.learning_rate, o.momentum,
                     o.nesterov, o.weight_decay);
        break;
      case Optim::adam:
        K.adam_update(e - b, slot.value + b, slot.grad + b, s1, s2, o.learning_rate, lr_t,
                      o.beta1, o.beta2, o.epsilon, o.weight_decay);
        break;
      case Optim::rmsprop:
        K.rmsprop_update(e - b, slot.value + b, slot.grad + b, s1, s2, o.learning_rate, o.rho,
                         o.momentum, o.epsilon, o.weight_decay);
        break;
    }
  };
  size_t total = 0;
  for (const ParamSlot& slot : params_) total += slot.size;
  const size_t nt = static_cast<size_t>(num_threads());
  if (total < kParMin || nt <= 1) {
    for (const ParamSlot& slot : params_) update(slot, 0, slot.size);
    return;
  }
  // One parallel region for all parameters: pieces of about total / (4·threads) elements
  // (aligned), a small parameter being one piece (W1 has 11 parameters; one region each would
  // wake the pool 11 times for a few microseconds of work).
  size_t per = (total + nt * 4 - 1) / (nt * 4);
  per = (per + kFlatAlign - 1) / kFlatAlign * kFlatAlign;
  opt_pieces_.clear();  // keeps its capacity: no allocation after the first step
  for (size_t s = 0; s < params_.size(); ++s)
    for (size_t b = 0; b < params_[s].size; b += per)
      opt_pieces_.push_back({s, b, std::min(params_[s].size, b + per)});
  parallel_for(opt_pieces_.size(), [&](size_t i) {
    const OptPiece& q = opt_pieces_[i];
    update(params_[q.slot], q.begin, q.end);
  });
}

Status Net::recalibrate(const float* x, size_t n, size_t batch_size) {
  if (n < 2) return Status::Error("Expected at least 2 rows for x but received " + std::to_string(n));
  if (batch_size == 0) return Status::Error("Expected a positive batchSize but received 0");
  for (size_t k = 0; k < blocks_.size(); ++k) {
    BlockSpec& s = blocks_[k];
    if (!s.has_bn) continue;
    const size_t F = s.out;
    // Chan et al.'s pairwise merge of per-chunk (count, mean, M2), all in double.
    std::vector<double> mean(F, 0.0), m2(F, 0.0), cm(F), cm2(F);
    double count = 0;
    for (size_t r0 = 0; r0 < n; r0 += batch_size) {
      const size_t rows = std::min(batch_size, n - r0);
      const float* xb = x + r0 * in_features();
      Status st = forward(infer_ws_, xb, rows, 0, k, false);
      if (!st.ok) return st;
      // Block k's batch-norm input (dense + pre-activation, inference mode).
      const float* X = k == 0 ? xb : infer_ws_.b[k - 1].y.data();
      std::vector<float> a(rows * F);
      const KernelTable& K = kernels();
      if (s.kernel) {
        gemm(false, false, rows, F, s.in, X, s.in, s.kernel, F, a.data(), F, false);
        if (s.bias || (s.pre_act != Act::linear && elementwise(s.pre_act)))
          p_scale_shift_act(K, a.data(), rows, F, F, nullptr, s.bias,
                            elementwise(s.pre_act) ? s.pre_act : Act::linear, a.data(), F);
        if (s.pre_act == Act::softmax) p_softmax_rows(a.data(), rows, F, a.data());
      } else {
        apply_act(K, X, rows, F, s.pre_act, a.data());
      }
      std::fill(cm.begin(), cm.end(), 0.0);
      std::fill(cm2.begin(), cm2.end(), 0.0);
      for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < F; ++j) cm[j] += a[i * F + j];
      for (size_t j = 0; j < F; ++j) cm[j] /= static_cast<double>(rows);
      for (size_t i = 0; i < rows; ++i)
        for (size_t j = 0; j < F; ++j) {
          const double e = a[i * F + j] - cm[j];
          cm2[j] += e * e;
        }
      const double nb = static_cast<double>(rows), na = count, nt = na + nb;
      for (size_t j = 0; j < F; ++j) {
        const double delta = cm[j] - mean[j];
        mean[j] += delta * nb / nt;
        m2[j] += cm2[j] + delta * delta * na * nb / nt;
      }
      count = nt;
    }
    for (size_t j = 0; j < F; ++j) {
      s.moving_mean[j] = static_cast<float>(mean[j]);
      s.moving_var[j] = static_cast<float>(m2[j] / (count - 1));
    }
  }
  return Status::Ok();
}

}  // namespace densenorm

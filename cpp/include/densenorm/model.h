// The model's vocabulary as the core sees it: modes, losses, optimizers, parameter slots and the
// fused block. Parameters, gradients and optimizer state live in caller-owned memory.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "densenorm/kernels.h"

namespace densenorm {

enum class Mode : int { kInference = 0, kTraining = 1 };

// Largest feature count of any layer (the façade's lib/limits.ts MAX_FEATURES says the same).
constexpr size_t kMaxFeatures = size_t{1} << 24;

// Act's names, in its order (kernels.h).
constexpr int kActCount = 5;
constexpr const char* kActNames[kActCount] = {"linear", "relu", "sigmoid", "tanh", "softmax"};

enum class Loss : int {
  categorical_crossentropy = 0,
  sparse_categorical_crossentropy = 1,
  binary_crossentropy = 2,
  mean_squared_error = 3,
};
constexpr int kLossCount = 4;

enum class Optim : int { sgd = 0, adam = 1, rmsprop = 2 };
constexpr int kOptimCount = 3;

struct OptimizerConfig {
  Optim type = Optim::sgd;
  float learning_rate = 0.01f;
  float momentum = 0.f;      // sgd, rmsprop
  bool nesterov = false;     // sgd
  float beta1 = 0.9f, beta2 = 0.999f;  // adam
  float rho = 0.9f;          // rmsprop
  float epsilon = 1e-7f;     // adam, rmsprop
  float weight_decay = 0.f;  // decoupled
  // Gradient clipping before the update (Keras): 0 is off; at most one is set.
  float clipnorm = 0.f;         // each tensor to L2 norm <= clipnorm
  float global_clipnorm = 0.f;  // all tensors together to L2 norm <= global_clipnorm
  float clipvalue = 0.f;        // each element to [-clipvalue, clipvalue]
};

// One trainable tensor and its optimizer state, each state array sized like the parameter and
// nullptr where the optimizer does not need it. What state[i] holds is the optimizer's
// (optimizer.cc's table): sgd {velocity}, adam {m, v}, rmsprop {mean square, momentum}.
struct ParamSlot {
  float* value = nullptr;
  float* grad = nullptr;
  float* state[2] = {nullptr, nullptr};
  size_t size = 0;
  // Regularization (Keras L1L2): the loss gains l1·Σ|w| + l2·Σw², the gradient l1·sign(w) + 2·l2·w.
  float l1 = 0.f, l2 = 0.f;
};

class Epilogue;  // core/epilogue.h

// One fused block: [Dense(W, b)] → pre_act → [BatchNorm] → post_act → [epilogue], each part
// optional.
struct BlockSpec {
  size_t in = 0, out = 0;  // features; without Dense, in == out
  // Dense (kernel == nullptr: none). kernel is [in × out] row-major (Keras order).
  float* kernel = nullptr;
  float* bias = nullptr;       // nullable
  bool dense_trainable = true;
  float* grad_kernel = nullptr;  // required when dense_trainable
  float* grad_bias = nullptr;
  Act pre_act = Act::linear;
  // Batch normalization.
  bool has_bn = false;
  float* gamma = nullptr;      // nullable (scale: false)
  float* beta = nullptr;       // nullable (center: false)
  float* moving_mean = nullptr;
  float* moving_var = nullptr;
  double* num_batches = nullptr;  // cumulative-average counter (momentum null)
  float epsilon = 1e-3f;
  float momentum = 0.99f;
  bool cumulative = false;     // momentum null: moving = cumulative average of batch statistics
  bool bn_trainable = true;    // false: frozen, runs in inference mode even while training
  float* grad_gamma = nullptr;
  float* grad_beta = nullptr;
  // Batch renormalization (Ioffe 2017; has_bn): in training x̂·r + d with r = clip(σ_B/σ_R,
  // 1/rmax, rmax) and d = clip((μ_B − μ_R)/σ_R, −dmax, dmax) against the renorm statistics
  // μ_R, σ_R (renorm_mean, renorm_stddev: a moving average of rate renorm_momentum); r and d are
  // constants in the backward.
  bool renorm = false;
  float rmax = 1.f, rmin = 1.f, dmax = 0.f, renorm_momentum = 0.99f;
  float* renorm_mean = nullptr;
  float* renorm_stddev = nullptr;
  // Ghost batch norm: batch statistics per sub-batch of this many rows (0: the whole batch);
  // the moving statistics take the sub-batches' mean statistics once per step.
  size_t virtual_batch = 0;
  // Row normalization (layer/group normalization, RMSNorm): per row over each of `norm_groups`
  // contiguous feature groups, in every mode; gamma, beta, epsilon and grad_* as above.
  bool has_row_norm = false;
  size_t norm_groups = 1;
  bool rms = false;  // no mean subtraction
  Act post_act = Act::linear;
  std::shared_ptr<const Epilogue> epilogue;  // e.g. dropout; nullptr: none

  // A normalization part (batch or row) sits between the two activations.
  bool has_norm() const { return has_bn || has_row_norm; }
  // Normalizes with this batch's statistics (training a trainable BN), not the moving ones.
  bool bn_batch_stats(Mode m) const { return has_bn && bn_trainable && m == Mode::kTraining; }
  // The bias only shifts what batch statistics remove: its work is skipped, its value kept (and
  // added back into the moving mean).
  bool bias_cancels(Mode m) const { return bn_batch_stats(m) && pre_act == Act::linear && bias; }
};

struct StepResult {
  double loss = 0;
  double correct = 0;   // accuracy numerator
  double count = 0;     // accuracy denominator
  std::vector<double> metrics;  // the net's metric states, concatenated (Net::set_metrics)
};

}  // namespace densenorm

// The model's vocabulary as the core sees it: modes, losses, optimizers, parameter slots and the
// fused block. Parameters, gradients and optimizer state live in caller-owned memory.
#pragma once
#include <cstddef>
#include <memory>

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
};

// One trainable tensor and its optimizer state, each state array sized like the parameter and
// nullptr where the optimizer does not need it. What state[i] holds is the optimizer's
// (optimizer.cc's table): sgd {velocity}, adam {m, v}, rmsprop {mean square, momentum}.
struct ParamSlot {
  float* value = nullptr;
  float* grad = nullptr;
  float* state[2] = {nullptr, nullptr};
  size_t size = 0;
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
  Act post_act = Act::linear;
  std::shared_ptr<const Epilogue> epilogue;  // e.g. dropout; nullptr: none

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
};

}  // namespace densenorm

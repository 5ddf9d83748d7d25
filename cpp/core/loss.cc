#include "core/loss.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace densenorm {
namespace {

constexpr float kEps = 1e-7f;  // Keras's epsilon for probabilities

size_t argmax(const float* r, size_t C) {
  size_t m = 0;
  for (size_t j = 1; j < C; ++j)
    if (r[j] > r[m]) m = j;
  return m;
}

// Categorical crossentropy, from one-hot (or soft) targets or from class ids (sparse).
void crossentropy(bool sparse, const LossInput& in, const float* t, size_t B, StepResult* res,
                  float* grad, bool* grad_is_logits, Status* st) {
  const size_t C = in.classes;
  const float* Y = in.y;
  const float* L = in.logits;
  const Act fa = in.final_act;
  double loss = 0, correct = 0, count = 0;
  const double invB = 1.0 / static_cast<double>(B);
  *grad_is_logits = false;
  for (size_t i = 0; i < B; ++i) {
    const float* yr = Y + i * C;
    float* gr = grad + i * C;
    size_t label = 0;
    if (sparse) {
      const float lf = t[i];
      if (!(lf >= 0) || lf >= static_cast<float>(C) || lf != std::floor(lf))
      {
        *st = Status::Invalid("Expected class ids in [0, " + std::to_string(C) +
                              ") for y but received " + std::to_string(lf) + " at row " +
                              std::to_string(i));
        return;
      }
      label = static_cast<size_t>(lf);
    }
    const float* tr = sparse ? nullptr : t + i * C;
    const double wi = in.weights ? in.weights[i] : 1.0;
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
        if (tj != 0) loss -= wi * (tj * (lr[j] - lse));
        gr[j] = static_cast<float>((yr[j] - tj) * invB * wi);
      }
    } else {
      for (size_t j = 0; j < C; ++j) {
        const float tj = target(j);
        const float p = yr[j];
        const float pc = std::min(std::max(p, kEps), 1.0f - kEps);
        if (tj != 0) loss -= wi * (tj * std::log(static_cast<double>(pc)));
        gr[j] = (p > kEps && p < 1.0f - kEps) ? static_cast<float>(-tj / pc * invB * wi) : 0.0f;
      }
    }
    const size_t truth = sparse ? label : argmax(tr, C);
    correct += argmax(yr, C) == truth ? 1 : 0;
    count += 1;
  }
  *grad_is_logits = fa == Act::softmax;
  loss *= invB;
  res->loss = loss;
  res->correct = correct;
  res->count = count;
}

void categorical(const LossInput& in, const float* t, size_t B, StepResult* res, float* grad,
                 bool* logits, Status* st) {
  crossentropy(false, in, t, B, res, grad, logits, st);
}
void sparse_categorical(const LossInput& in, const float* t, size_t B, StepResult* res,
                        float* grad, bool* logits, Status* st) {
  crossentropy(true, in, t, B, res, grad, logits, st);
}

void binary(const LossInput& in, const float* t, size_t B, StepResult* res, float* grad,
            bool* grad_is_logits, Status*) {
  const size_t C = in.classes;
  const float* Y = in.y;
  const float* L = in.logits;
  const Act fa = in.final_act;
  double loss = 0, correct = 0, count = 0;
  const double invB = 1.0 / static_cast<double>(B);
  *grad_is_logits = false;
  const double invN = invB / static_cast<double>(C);
  for (size_t i = 0; i < B * C; ++i) {
    const float tj = t[i], p = Y[i];
    const double wi = in.weights ? in.weights[i / C] : 1.0;
    if (fa == Act::sigmoid) {
      const double l = L[i];
      loss += wi * (std::max(l, 0.0) - l * tj + std::log1p(std::exp(-std::fabs(l))));
      grad[i] = static_cast<float>((p - tj) * invN * wi);
    } else {
      const float pc = std::min(std::max(p, kEps), 1.0f - kEps);
      loss -= wi * (tj * std::log(static_cast<double>(pc)) +
                    (1 - tj) * std::log(1.0 - static_cast<double>(pc)));
      grad[i] = (p > kEps && p < 1.0f - kEps)
                    ? static_cast<float>((pc - tj) / (pc * (1.0 - pc)) * invN * wi)
                    : 0.0f;
    }
    correct += ((p > 0.5f) == (tj > 0.5f)) ? 1 : 0;
    count += 1;
  }
  *grad_is_logits = fa == Act::sigmoid;
  loss *= invN;
  res->loss = loss;
  res->correct = correct;
  res->count = count;
}

void mean_squared(const LossInput& in, const float* t, size_t B, StepResult* res, float* grad,
                  bool* grad_is_logits, Status*) {
  const size_t C = in.classes;
  const float* Y = in.y;
  double loss = 0, correct = 0, count = 0;
  const double invB = 1.0 / static_cast<double>(B);
  *grad_is_logits = false;
  const double invN = invB / static_cast<double>(C);
  for (size_t i = 0; i < B * C; ++i) {
    const double e = static_cast<double>(Y[i]) - t[i];
    const double wi = in.weights ? in.weights[i / C] : 1.0;
    loss += wi * (e * e);
    grad[i] = static_cast<float>(2.0 * e * invN * wi);
  }
  loss *= invN;
  for (size_t i = 0; i < B; ++i) {
    if (C == 1) correct += ((Y[i] > 0.5f) == (t[i] > 0.5f)) ? 1 : 0;
    else correct += argmax(Y + i * C, C) == argmax(t + i * C, C) ? 1 : 0;
    count += 1;
  }
  res->loss = loss;
  res->correct = correct;
  res->count = count;
}

// In Loss's order.
constexpr LossDef kLosses[kLossCount] = {
    {"categorical_crossentropy", categorical, false},
    {"sparse_categorical_crossentropy", sparse_categorical, true},
    {"binary_crossentropy", binary, false},
    {"mean_squared_error", mean_squared, false},
};

}  // namespace

const LossDef& loss_def(Loss l) { return kLosses[static_cast<int>(l)]; }

Status loss_forward(Loss l, const LossInput& in, const float* t, size_t B, StepResult* res,
                    float* grad, bool* grad_is_logits) {
  Status st;
  loss_def(l).forward_and_grad(in, t, B, res, grad, grad_is_logits, &st);
  if (!st.ok()) return st;
  if (!std::isfinite(res->loss))
    return Status::Training("the loss is not finite (" + std::to_string(res->loss) + ")");
  return st;
}

}  // namespace densenorm

// The losses, one table: each computes its mean loss (Σ wᵢ·lossᵢ / B with sample weights, as
// Keras's sum-over-batch-size), the accuracy counts and dLoss/dOutput (or
// dLoss/dLogits when the final activation and the loss fold into one, as softmax with
// crossentropy and sigmoid with binary crossentropy).
#pragma once
#include <cstddef>

#include "densenorm/kernels.h"
#include "densenorm/model.h"
#include "densenorm/status.h"

namespace densenorm {

// The model's last output as a loss sees it.
struct LossInput {
  const float* y = nullptr;       // the output [B × C]
  const float* logits = nullptr;  // final_act's input [B × C], or nullptr when there is none
  size_t classes = 0;             // C
  Act final_act = Act::linear;
  const float* weights = nullptr;  // per-row sample weights [B], or nullptr (all 1)
};

struct LossDef {
  const char* name;  // the Keras name in snake_case, as the façade sends it
  // t: targets [B × C] (or B class ids for sparse losses). grad: [B × C] out.
  void (*forward_and_grad)(const LossInput& in, const float* t, size_t B, StepResult* res,
                           float* grad, bool* grad_is_logits, Status* st);
  bool class_ids;  // t holds one class id per row
};

const LossDef& loss_def(Loss l);

// Runs the loss; a non-finite loss (or an invalid class id) is an error.
Status loss_forward(Loss l, const LossInput& in, const float* t, size_t B, StepResult* res,
                    float* grad, bool* grad_is_logits);

}  // namespace densenorm

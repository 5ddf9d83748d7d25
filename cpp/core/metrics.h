// Metrics beyond the loss's accuracy, one table: each adds a batch's counts or sums into its state
// (doubles, summed over an epoch's batches); the façade turns the state into the value Keras
// reports (lib/metrics.ts), so the state of batches adds up exactly.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "densenorm/status.h"

namespace densenorm {

struct MetricInput {
  const float* y = nullptr;  // the model's output [B × C]
  const float* t = nullptr;  // targets [B × C], or B class ids when class_ids
  size_t rows = 0, classes = 0;
  bool class_ids = false;
};

struct MetricDef {
  const char* name;  // snake_case, as the façade sends it
  size_t state_size;
  void (*add)(const MetricInput& in, double* state);
};

// The metric named `name`, or nullptr (then *st says which exist).
const MetricDef* find_metric(const std::string& name, Status* st);
std::vector<std::string> metric_names();

// AUC's thresholds (Keras's 200: -ε, 1/199, …, 198/199, 1 + ε); a value counts as positive
// at threshold k when it is above it.
constexpr size_t kAucThresholds = 200;

}  // namespace densenorm

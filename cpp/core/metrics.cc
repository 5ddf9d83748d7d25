#include "core/metrics.h"

#include <algorithm>
#include <cmath>

namespace densenorm {
namespace {

size_t argmax(const float* r, size_t C) {
  size_t m = 0;
  for (size_t j = 1; j < C; ++j)
    if (r[j] > r[m]) m = j;
  return m;
}

// The target of element (i, j) as 0/1-ish float (class ids expand to one-hot).
inline float target(const MetricInput& in, size_t i, size_t j) {
  if (in.class_ids) return static_cast<size_t>(in.t[i]) == j ? 1.0f : 0.0f;
  return in.t[i * in.classes + j];
}

// {correct, count}: every element, prediction > 0.5 against target > 0.5.
void binary_accuracy(const MetricInput& in, double* s) {
  for (size_t i = 0; i < in.rows; ++i)
    for (size_t j = 0; j < in.classes; ++j) {
      s[0] += (in.y[i * in.classes + j] > 0.5f) == (target(in, i, j) > 0.5f) ? 1 : 0;
      s[1] += 1;
    }
}

// {correct, count}: every row, argmax of the prediction against the target's class.
void categorical_accuracy(const MetricInput& in, double* s) {
  for (size_t i = 0; i < in.rows; ++i) {
    const size_t truth = in.class_ids ? static_cast<size_t>(in.t[i]) : argmax(in.t + i * in.classes, in.classes);
    s[0] += argmax(in.y + i * in.classes, in.classes) == truth ? 1 : 0;
    s[1] += 1;
  }
}

// {true positives, false positives, false negatives} at threshold 0.5, every element.
void confusion(const MetricInput& in, double* s) {
  for (size_t i = 0; i < in.rows; ++i)
    for (size_t j = 0; j < in.classes; ++j) {
      const bool p = in.y[i * in.classes + j] > 0.5f;
      const bool t = target(in, i, j) > 0.5f;
      s[0] += p && t;
      s[1] += p && !t;
      s[2] += !p && t;
    }
}

// {tp[k], fp[k] for each threshold k, positives, negatives}.
void auc(const MetricInput& in, double* s) {
  double* tp = s;
  double* fp = s + kAucThresholds;
  for (size_t i = 0; i < in.rows; ++i)
    for (size_t j = 0; j < in.classes; ++j) {
      const float y = in.y[i * in.classes + j];
      const bool t = target(in, i, j) > 0.5f;
      // How many thresholds y exceeds (a prefix, they increase): −ε, then k/199 < y ⇔ k < 199·y
      // for k = 1 … 198, then 1 + ε.
      size_t above = 0;
      if (y > -1e-7f) {
        const double c = std::ceil(static_cast<double>(y) * (kAucThresholds - 1)) - 1.0;
        above = 1 + static_cast<size_t>(std::min(std::max(c, 0.0), double{kAucThresholds - 2}));
        if (y > 1.0f + 1e-7f) above = kAucThresholds;
      }
      // "above" thresholds 0 .. above-1 are exceeded: record at index above-1 (the façade takes
      // suffix sums), so the state stays a plain sum.
      if (above > 0) (t ? tp : fp)[above - 1] += 1;
      s[2 * kAucThresholds + (t ? 0 : 1)] += 1;
    }
}

// {Σ|e|, count} and {Σe², count} over every element.
void mae(const MetricInput& in, double* s) {
  for (size_t i = 0; i < in.rows; ++i)
    for (size_t j = 0; j < in.classes; ++j) {
      s[0] += std::fabs(static_cast<double>(in.y[i * in.classes + j]) - target(in, i, j));
      s[1] += 1;
    }
}
void mse(const MetricInput& in, double* s) {
  for (size_t i = 0; i < in.rows; ++i)
    for (size_t j = 0; j < in.classes; ++j) {
      const double e = static_cast<double>(in.y[i * in.classes + j]) - target(in, i, j);
      s[0] += e * e;
      s[1] += 1;
    }
}

const MetricDef kMetrics[] = {
    {"binary_accuracy", 2, binary_accuracy},
    {"categorical_accuracy", 2, categorical_accuracy},
    {"precision", 3, confusion},
    {"recall", 3, confusion},
    {"auc", 2 * kAucThresholds + 2, auc},
    {"mae", 2, mae},
    {"mse", 2, mse},
};

}  // namespace

std::vector<std::string> metric_names() {
  std::vector<std::string> v;
  for (const MetricDef& m : kMetrics) v.push_back(m.name);
  return v;
}

const MetricDef* find_metric(const std::string& name, Status* st) {
  for (const MetricDef& m : kMetrics)
    if (name == m.name) return &m;
  std::string known;
  for (const MetricDef& m : kMetrics) known += (known.empty() ? "" : ", ") + std::string(m.name);
  *st = Status::Invalid("Expected a metric among " + known + " but received '" + name + "'");
  return nullptr;
}

}  // namespace densenorm

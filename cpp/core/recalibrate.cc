// Precise batch-norm statistics: every BN layer's moving statistics replaced by the exact
// statistics of its input over a whole dataset, layer by layer.
#include <algorithm>
#include <string>
#include <vector>

#include "core/block.h"
#include "core/net_workspace.h"
#include "densenorm/net.h"

namespace densenorm {

Status Net::recalibrate(const float* x, size_t n, size_t batch_size) {
  if (n < 2) return Status::Invalid("Expected at least 2 rows for x but received " + std::to_string(n));
  if (batch_size == 0) return Status::Invalid("Expected a positive batchSize but received 0");
  const KernelTable& K = gemm_kernels();
  Workspace& ws = *recal_ws_;
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
      forward(ws, xb, rows, Mode::kInference, k, false, 0);  // earlier blocks, already recalibrated
      const float* X = k == 0 ? xb : ws.b[k - 1].out.data();
      std::vector<float> a(rows * F);
      block_bn_input(K, s, X, rows, a.data());
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

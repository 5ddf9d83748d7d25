// A Net's buffers for one batch size: every block's activations plus the step's shared scratch.
#pragma once
#include <cstddef>
#include <vector>

#include "core/block.h"

namespace densenorm {

struct Workspace {
  size_t batch = 0;
  bool full = false;  // has the training buffers, not only inference's
  std::vector<BlockBuffers> b;
  StepScratch scratch;
};

}  // namespace densenorm

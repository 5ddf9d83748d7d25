// bf16 mixed precision (compile precision 'mixed_bfloat16'): the GEMM table whose products round
// their operands to bf16 and accumulate in fp32 (cpp/kernels/bf16_impl.h for the arithmetic).
// Everything else in that table is the active fp32 table's.
#pragma once
#include "densenorm/kernels.h"

namespace densenorm {

// CPUID.(EAX=7,ECX=1):EAX bit 5 (AVX512_BF16) on a CPU whose AVX-512 path is usable (F/DQ/BW/VL
// with OS-enabled ZMM state). False on non-x86 hosts and builds without the native kernel.
bool cpu_has_avx512_bf16();

// The bf16 GEMM table for the active ISA (kernels()): the native VDPBF16PS kernel when the CPU
// has AVX512_BF16, the active ISA is avx512 and DENSENORM_BF16 is not "emulate"; otherwise the
// emulation (bf16-rounded operands, fp32 FMAs in VDPBF16PS's order). Same bits either way except
// for fp32 denormals. nullptr-free: always a usable table.
const KernelTable& kernels_bf16();
// Whether kernels_bf16() runs the native instruction.
bool bf16_native();
// nullptr, or the message for a DENSENORM_BF16 value other than auto / emulate / native, or
// "native" on a CPU without AVX512_BF16.
const char* bf16_setting_error();
// For tests: the bf16 table over kernels_for(isa), emulated or native; nullptr when this CPU or
// build cannot run it.
const KernelTable* kernels_bf16_for(Isa isa, bool native);

}  // namespace densenorm

// tfx_cuda_emu.h: run ordinary CUDA kernels on the CPU, for machines without a GPU.
//
// A .cu file of kernels compiles as C++ with
//   g++ -x c++ -std=c++17 -fopenmp -O1 main.cpp      (main.cpp includes this header, then the .cu)
// and its kernels run through tfx_launch(kernel, grid, block, shared_bytes, args...).
//
// Execution model (why it is correct enough to check generated kernels):
// - Blocks run one at a time, in order z, y, x. The threads of one block are one OpenMP parallel
//   region of exactly blockDim.x*y*z threads (dynamic adjustment off, nesting off, checked).
// - `__shared__` is `static`: one copy per kernel, which is the block's shared memory because only
//   one block runs at a time. Like on a GPU it is not cleared between blocks.
// - `extern __shared__ T name[];` (dynamic shared memory) cannot be spelled in C++; cpu-run.ts
//   rewrites it to TFX_DYNAMIC_SHARED(T, name); which points into a fixed arena. The launcher fills
//   the first shared_bytes of the arena with 0xFF (NaN for floats) so reads of unwritten shared
//   memory show up in results instead of passing by luck.
// - `__syncthreads()` is an OpenMP barrier. A thread that returns before a barrier the others reach
//   deadlocks the emulation (on a GPU it is undefined behaviour too); callers run with a timeout.
// - Warp operations (__shfl_*_sync, __ballot_sync, __any_sync, __all_sync, __syncwarp) are emulated
//   through a per-block scratch array and block-wide barriers, so they MUST be reached by every
//   thread of the block, the same number of times (uniform control flow at block level, which the
//   tfx renderer guarantees). Warp size is 32; lane = linear thread index % 32. The mask argument
//   is ignored. Shuffle results follow the PTX shfl.sync rules, including the width argument.
// - half / __nv_bfloat16 store their 16 bits; arithmetic goes through float (round to nearest even).
// Performance: every barrier wakes all threads of the block; on a 2-core machine use
// OMP_WAIT_POLICY=passive and keep test grids small.
#pragma once

// Generated code may test this to tell the emulation from nvcc.
#define TFX_CUDA_EMU 1

#include <omp.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

// ---- qualifiers ----
#define __global__
#define __device__
#define __host__
#define __constant__
#define __managed__
#define __forceinline__ inline __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __shared__ static
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)
#define __grid_constant__
// __restrict__ is already a g++ keyword.

// ---- vector and index types ----
struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

struct __attribute__((aligned(8))) float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };
inline float2 make_float2(float x, float y) { return {x, y}; }
inline float3 make_float3(float x, float y, float z) { return {x, y, z}; }
inline float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
inline int2 make_int2(int x, int y) { return {x, y}; }
inline int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
inline uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

constexpr int warpSize = 32;

// Block-uniform values are plain globals (one block runs at a time); threadIdx is per thread.
static dim3 gridDim, blockDim;
static uint3 blockIdx;
static thread_local uint3 threadIdx;

namespace tfx_emu {

constexpr int kMaxThreads = 1024;
// Larger than any GPU's per-block shared memory (227 KiB on sm_90).
constexpr std::size_t kDynamicSharedBytes = 256 * 1024;
alignas(256) static unsigned char dynamic_shared[kDynamicSharedBytes];

static thread_local int linear_tid;  // threadIdx.x + threadIdx.y*Dx + threadIdx.z*Dx*Dy

[[noreturn]] inline void fail(const char* msg) {
  std::fprintf(stderr, "tfx_cuda_emu: %s\n", msg);
  std::fflush(stderr);
  std::_Exit(3);
}

inline float f32_from_bits(uint32_t b) { float f; std::memcpy(&f, &b, 4); return f; }
inline uint32_t bits_from_f32(float f) { uint32_t b; std::memcpy(&b, &f, 4); return b; }

// Round-to-nearest-even float -> binary16, with subnormals, overflow to inf, NaN kept quiet.
inline uint16_t f32_to_f16_bits(float f) {
  const uint32_t x = bits_from_f32(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  const uint32_t a = x & 0x7fffffffu;
  if (a >= 0x7f800000u) return uint16_t(sign | 0x7c00u | (a > 0x7f800000u ? 0x200u | ((a >> 13) & 0x3ffu) : 0u));
  if (a >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // >= 65520 rounds to inf
  if (a < 0x38800000u) {                                   // below 2^-14: half subnormal or zero
    if (a < 0x33000000u) return uint16_t(sign);            // below 2^-25 rounds to zero
    const uint32_t e = a >> 23, m = (a & 0x7fffffu) | 0x800000u, shift = 126u - e;
    uint32_t r = m >> shift;
    const uint32_t rem = m & ((1u << shift) - 1u), halfway = 1u << (shift - 1u);
    if (rem > halfway || (rem == halfway && (r & 1u))) ++r;
    return uint16_t(sign | r);
  }
  uint32_t r = (a - 0x38000000u) >> 13;
  const uint32_t rem = a & 0x1fffu;
  if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) ++r;
  return uint16_t(sign | r);
}

inline float f16_bits_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0x1f) return f32_from_bits(sign | 0x7f800000u | (m << 13));
  if (e == 0) {
    const float v = std::ldexp(float(m), -24);
    return sign ? -v : v;
  }
  return f32_from_bits(sign | ((e + 112u) << 23) | (m << 13));
}

inline uint16_t f32_to_bf16_bits(float f) {
  const uint32_t x = bits_from_f32(f);
  if ((x & 0x7fffffffu) > 0x7f800000u) return uint16_t((x >> 16) | 0x40u);
  return uint16_t((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}
inline float bf16_bits_to_f32(uint16_t b) { return f32_from_bits(uint32_t(b) << 16); }

// A buffer argument from the launcher: converts to whatever pointer type the kernel declares.
struct DevicePtr {
  void* p;
  template <class T> operator T*() const { return static_cast<T*>(p); }
};

// Shuffle scratch: one 8-byte slot per thread of the block.
alignas(64) static unsigned char shuffle_slots[kMaxThreads][8];
static uint32_t vote_slots[kMaxThreads];

inline void barrier() {
#pragma omp barrier
}

// PTX shfl.sync source-lane rule; c = ((32 - width) << 8) | clamp.
enum ShflMode { kUp, kDown, kBfly, kIdx };
inline int shfl_source(int lane, ShflMode mode, int b, int c) {
  const int cval = c & 0x1f, segmask = (c >> 8) & 0x1f;
  const int max_lane = (lane & segmask) | (cval & ~segmask), min_lane = lane & segmask;
  int j = lane;
  bool ok = false;
  switch (mode) {
    case kUp: j = lane - b; ok = j >= max_lane; break;
    case kDown: j = lane + b; ok = j <= max_lane; break;
    case kBfly: j = lane ^ (b & 0x1f); ok = j <= max_lane; break;
    case kIdx: j = min_lane | (b & 0x1f & ~segmask); ok = j <= max_lane; break;
  }
  return ok ? j : lane;
}

template <class T>
inline T shfl(T v, ShflMode mode, int b, int c) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type over 8 bytes");
  const int tid = linear_tid, lane = tid & 31;
  std::memcpy(shuffle_slots[tid], &v, sizeof(T));
  barrier();
  T out;
  std::memcpy(&out, shuffle_slots[(tid & ~31) + shfl_source(lane, mode, b, c)], sizeof(T));
  barrier();  // nobody may overwrite a slot before every thread has read it
  return out;
}

// Vote over the thread's warp (lanes that exist in the block).
inline uint32_t ballot(bool pred) {
  const int tid = linear_tid, base = tid & ~31;
  const int n = int(blockDim.x * blockDim.y * blockDim.z);
  vote_slots[tid] = pred ? 1u : 0u;
  barrier();
  uint32_t bits = 0;
  for (int l = 0; l < 32 && base + l < n; ++l) bits |= vote_slots[base + l] << l;
  barrier();
  return bits;
}

inline int active_lanes_mask() {
  const int n = int(blockDim.x * blockDim.y * blockDim.z), base = linear_tid & ~31;
  const int count = n - base >= 32 ? 32 : n - base;
  return count == 32 ? -1 : int((1u << count) - 1u);
}

}  // namespace tfx_emu

// ---- half precision ----
struct __half {
  uint16_t __x;
  __half() = default;
  __half(float f) : __x(tfx_emu::f32_to_f16_bits(f)) {}
  __half(double f) : __x(tfx_emu::f32_to_f16_bits(float(f))) {}
  __half(int i) : __x(tfx_emu::f32_to_f16_bits(float(i))) {}
  __half(unsigned int i) : __x(tfx_emu::f32_to_f16_bits(float(i))) {}
  operator float() const { return tfx_emu::f16_bits_to_f32(__x); }
};
typedef __half half;
struct __nv_bfloat16 {
  uint16_t __x;
  __nv_bfloat16() = default;
  __nv_bfloat16(float f) : __x(tfx_emu::f32_to_bf16_bits(f)) {}
  __nv_bfloat16(double f) : __x(tfx_emu::f32_to_bf16_bits(float(f))) {}
  __nv_bfloat16(int i) : __x(tfx_emu::f32_to_bf16_bits(float(i))) {}
  __nv_bfloat16(unsigned int i) : __x(tfx_emu::f32_to_bf16_bits(float(i))) {}
  operator float() const { return tfx_emu::bf16_bits_to_f32(__x); }
};
typedef __nv_bfloat16 nv_bfloat16;

inline __half __float2half(float f) { return __half(f); }
inline __half __float2half_rn(float f) { return __half(f); }
inline float __half2float(__half h) { return float(h); }
inline __half __ushort_as_half(unsigned short b) { __half h; h.__x = b; return h; }
inline unsigned short __half_as_ushort(__half h) { return h.__x; }
inline __half __hadd(__half a, __half b) { return __half(float(a) + float(b)); }
inline __half __hmul(__half a, __half b) { return __half(float(a) * float(b)); }
inline __half __hfma(__half a, __half b, __half c) { return __half(std::fma(float(a), float(b), float(c))); }
inline __nv_bfloat16 __float2bfloat16(float f) { return __nv_bfloat16(f); }
inline __nv_bfloat16 __float2bfloat16_rn(float f) { return __nv_bfloat16(f); }
inline float __bfloat162float(__nv_bfloat16 b) { return float(b); }
inline __nv_bfloat16 __ushort_as_bfloat16(unsigned short b) { __nv_bfloat16 h; h.__x = b; return h; }
inline unsigned short __bfloat16_as_ushort(__nv_bfloat16 h) { return h.__x; }

// ---- synchronization ----
inline void __syncthreads() { tfx_emu::barrier(); }
inline int __syncthreads_count(int pred) {
  static int count;
#pragma omp single
  count = 0;
#pragma omp atomic
  count += pred ? 1 : 0;
  tfx_emu::barrier();
  const int result = count;
  tfx_emu::barrier();
  return result;
}
inline void __syncwarp(unsigned = 0xffffffffu) { tfx_emu::barrier(); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---- warp operations (block-uniform calls only, see top) ----
template <class T> inline T __shfl_sync(unsigned, T v, int src, int width = 32) {
  return tfx_emu::shfl(v, tfx_emu::kIdx, src, ((32 - width) << 8) | 0x1f);
}
template <class T> inline T __shfl_up_sync(unsigned, T v, unsigned delta, int width = 32) {
  return tfx_emu::shfl(v, tfx_emu::kUp, int(delta), (32 - width) << 8);
}
template <class T> inline T __shfl_down_sync(unsigned, T v, unsigned delta, int width = 32) {
  return tfx_emu::shfl(v, tfx_emu::kDown, int(delta), ((32 - width) << 8) | 0x1f);
}
template <class T> inline T __shfl_xor_sync(unsigned, T v, int lane_mask, int width = 32) {
  return tfx_emu::shfl(v, tfx_emu::kBfly, lane_mask, ((32 - width) << 8) | 0x1f);
}
inline unsigned __ballot_sync(unsigned, int pred) { return tfx_emu::ballot(pred != 0); }
inline int __any_sync(unsigned, int pred) { return tfx_emu::ballot(pred != 0) != 0; }
inline int __all_sync(unsigned, int pred) {
  return tfx_emu::ballot(pred != 0) == unsigned(tfx_emu::active_lanes_mask());
}
inline unsigned __activemask() { return unsigned(tfx_emu::active_lanes_mask()); }

// ---- atomics (threads of one block run concurrently; blocks do not) ----
template <class T> inline T atomicAdd(T* addr, T v) {
  T old;
#pragma omp atomic capture
  { old = *addr; *addr += v; }
  return old;
}
template <class T> inline T atomicSub(T* addr, T v) {
  T old;
#pragma omp atomic capture
  { old = *addr; *addr -= v; }
  return old;
}
template <class T> inline T atomicExch(T* addr, T v) { return __atomic_exchange_n(addr, v, __ATOMIC_SEQ_CST); }
inline float atomicExch(float* addr, float v) {
  return tfx_emu::f32_from_bits(__atomic_exchange_n(reinterpret_cast<uint32_t*>(addr), tfx_emu::bits_from_f32(v), __ATOMIC_SEQ_CST));
}
template <class T> inline T atomicCAS(T* addr, T expected, T desired) {
  __atomic_compare_exchange_n(addr, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}
template <class T> inline T atomicMax(T* addr, T v) {
  T old = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
  while (old < v && !__atomic_compare_exchange_n(addr, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}
template <class T> inline T atomicMin(T* addr, T v) {
  T old = __atomic_load_n(addr, __ATOMIC_SEQ_CST);
  while (old > v && !__atomic_compare_exchange_n(addr, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
  return old;
}

// ---- math intrinsics (fast variants map to the accurate ones) ----
inline float __expf(float x) { return std::exp(x); }
inline float __exp10f(float x) { return std::pow(10.0f, x); }
inline float __logf(float x) { return std::log(x); }
inline float __log2f(float x) { return std::log2(x); }
inline float __powf(float x, float y) { return std::pow(x, y); }
inline float __sinf(float x) { return std::sin(x); }
inline float __cosf(float x) { return std::cos(x); }
inline float __tanf(float x) { return std::tan(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline float __fadd_rn(float x, float y) { return x + y; }
inline float __fmul_rn(float x, float y) { return x * y; }
inline float __fmaf_rn(float x, float y, float z) { return std::fma(x, y, z); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline double rsqrt(double x) { return 1.0 / std::sqrt(x); }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { return tfx_emu::bits_from_f32(f); }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned u) { return tfx_emu::f32_from_bits(u); }
inline int __float2int_rn(float x) { return int(std::nearbyint(x)); }
inline int __float2int_rz(float x) { return int(x); }
inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz(unsigned(x)); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline unsigned __umulhi(unsigned a, unsigned b) { return unsigned((uint64_t(a) * b) >> 32); }
inline int __mul24(int a, int b) { return a * b; }
// CUDA's global min/max accept mixed operand types (int with unsigned, float with int).
template <class A, class B> inline typename std::common_type<A, B>::type min(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return C(b) < C(a) ? C(b) : C(a);
}
template <class A, class B> inline typename std::common_type<A, B>::type max(A a, B b) {
  typedef typename std::common_type<A, B>::type C;
  return C(a) < C(b) ? C(b) : C(a);
}
template <class T> inline T __ldg(const T* p) { return *p; }

// Dynamic shared memory: `extern __shared__ T name[];` becomes this (see top).
#define TFX_DYNAMIC_SHARED(T, name) T* const name = reinterpret_cast<T*>(tfx_emu::dynamic_shared)

// ---- launch ----
// Runs grid blocks one after another; each block is one parallel region of exactly
// blockDim threads. Arguments convert implicitly to the kernel's parameter types
// (buffers are passed as tfx_emu::DevicePtr).
template <class... Params, class... Args>
void tfx_launch(void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes, Args... args) {
  static_assert(sizeof...(Params) == sizeof...(Args), "tfx_launch: argument count differs from the kernel's");
  const long long n = (long long)block.x * block.y * block.z;
  if (n <= 0 || n > tfx_emu::kMaxThreads) tfx_emu::fail("block size must be 1..1024 threads");
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) tfx_emu::fail("grid dimensions must be positive");
  if (shared_bytes > tfx_emu::kDynamicSharedBytes) tfx_emu::fail("dynamic shared memory over 256 KiB");
  if (omp_in_parallel()) tfx_emu::fail("tfx_launch called inside a parallel region");
  omp_set_dynamic(0);
  omp_set_max_active_levels(1);
  std::memset(tfx_emu::dynamic_shared, 0xff, shared_bytes);
  gridDim = grid;
  blockDim = block;
  const int threads = int(n);
  for (unsigned bz = 0; bz < grid.z; ++bz)
    for (unsigned by = 0; by < grid.y; ++by)
      for (unsigned bx = 0; bx < grid.x; ++bx) {
        blockIdx = uint3{bx, by, bz};
#pragma omp parallel num_threads(threads)
        {
          if (omp_get_num_threads() != threads) tfx_emu::fail("OpenMP gave fewer threads than the block size (check OMP_THREAD_LIMIT)");
          const int t = omp_get_thread_num();
          tfx_emu::linear_tid = t;
          threadIdx = uint3{unsigned(t) % block.x, (unsigned(t) / block.x) % block.y, unsigned(t) / (block.x * block.y)};
          kernel(args...);
        }
      }
}

# node-gyp build of the same addon CMakeLists.txt builds (the install fallback when no cmake is on
# PATH). Sources and ISA flags come from cpp/sources.json via scripts/sources.js, as in CMake.
# The core is static libraries, one per ISA flag set, so AVX code cannot leak into the baseline;
# the self-registering ops (cpp/core/ops) compile straight into the addon, since a static archive
# would drop their objects (nothing refers to them).
{
  'variables': {
    'dn_x64': '<!(node -p "process.arch === \'x64\' ? 1 : 0")',
    'dn_arm64': '<!(node -p "process.arch === \'arm64\' ? 1 : 0")',
  },
  'target_defaults': {
    'include_dirs': ['cpp/include', 'cpp'],
    'defines': ['NAPI_VERSION=8'],
    # CMake builds the core with exceptions and RTTI on (the compilers' defaults) and -std=c++17.
    'cflags!': ['-fno-exceptions'],
    'cflags_cc!': ['-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-std=gnu++20'],
    'cflags_cc': ['-std=c++17', '-fexceptions', '-frtti', '-O3', '-fvisibility=hidden', '-fvisibility-inlines-hidden'],
    'xcode_settings': {
      'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
      'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
      'GCC_ENABLE_CPP_RTTI': 'YES',
      'GCC_SYMBOLS_PRIVATE_EXTERN': 'YES',
      'MACOSX_DEPLOYMENT_TARGET': '10.15',
    },
    'msvs_settings': {
      'VCCLCompilerTool': { 'ExceptionHandling': 1, 'RuntimeTypeInfo': 'true', 'AdditionalOptions': ['/std:c++17'] },
    },
    'conditions': [
      ['dn_x64==1', { 'defines': ['DENSENORM_X86_64_TABLES=1'] }],
      # As CMakeLists.txt: the glibc 2.28 floor (cpp/compat/glibc_floor.h).
      ['OS=="linux"', { 'cflags': ['-include', '<(module_root_dir)/cpp/compat/glibc_floor.h'] }],
      # As CMakeLists.txt: no a*b+c -> fma contraction outside the NEON table on arm64.
      ['dn_arm64==1', { 'defines': ['DENSENORM_NEON_TABLES=1'], 'cflags': ['-ffp-contract=off'], 'xcode_settings': { 'OTHER_CFLAGS': ['-ffp-contract=off'] } }],
    ],
  },
  'targets': [
    {
      'target_name': 'densenorm_core',
      'type': 'static_library',
      'sources': [
        '<!@(node scripts/sources.js kernels_scalar --gyp)',
        '<!@(node scripts/sources.js kernel_layer --gyp)',
        '<!@(node scripts/sources.js core --gyp)',
      ],
    },
    {
      'target_name': 'densenorm_kernels_neon',
      'type': 'static_library',
      'conditions': [['dn_arm64==1', {
        'sources': ['<!@(node scripts/sources.js kernels_neon --gyp)'],
        'cflags_cc': ['<!@(node scripts/sources.js flags neon gcc)'],
        'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<!@(node scripts/sources.js flags neon gcc)'] },
      }]],
    },
    {
      'target_name': 'densenorm_kernels_avx2',
      'type': 'static_library',
      'conditions': [['dn_x64==1', {
        'sources': ['<!@(node scripts/sources.js kernels_avx2 --gyp)'],
        'cflags_cc': ['<!@(node scripts/sources.js flags avx2 gcc)'],
        'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<!@(node scripts/sources.js flags avx2 gcc)'] },
        'msvs_settings': { 'VCCLCompilerTool': { 'AdditionalOptions': ['<!@(node scripts/sources.js flags avx2 msvc)'] } },
      }]],
    },
    {
      'target_name': 'densenorm_kernels_avx512',
      'type': 'static_library',
      'conditions': [['dn_x64==1', {
        'sources': ['<!@(node scripts/sources.js kernels_avx512 --gyp)'],
        'cflags_cc': ['<!@(node scripts/sources.js flags avx512 gcc)'],
        'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<!@(node scripts/sources.js flags avx512 gcc)'] },
        'msvs_settings': { 'VCCLCompilerTool': { 'AdditionalOptions': ['<!@(node scripts/sources.js flags avx512 msvc)'] } },
      }]],
    },
    {
      'target_name': 'densenorm_kernels_vnni',
      'type': 'static_library',
      'conditions': [['dn_x64==1', {
        'sources': ['<!@(node scripts/sources.js kernels_vnni --gyp)'],
        'cflags_cc': ['<!@(node scripts/sources.js flags vnni gcc)'],
        'xcode_settings': { 'OTHER_CPLUSPLUSFLAGS': ['<!@(node scripts/sources.js flags vnni gcc)'] },
        'msvs_settings': { 'VCCLCompilerTool': { 'AdditionalOptions': ['<!@(node scripts/sources.js flags vnni msvc)'] } },
      }]],
    },
    {
      'target_name': 'densenorm',
      'sources': [
        '<!@(node scripts/sources.js ops --gyp)',
        '<!@(node scripts/sources.js binding --gyp)',
      ],
      'include_dirs': ['<!(node -p "require(\'node-addon-api\').include_dir")'],
      # As CMakeLists.txt: C++ exceptions, std::exceptions become JS Errors.
      'defines': ['NODE_ADDON_API_DISABLE_DEPRECATED', 'NAPI_CPP_EXCEPTIONS', 'NODE_ADDON_API_CPP_EXCEPTIONS_ALL'],
      'dependencies': ['densenorm_core', 'densenorm_kernels_avx2', 'densenorm_kernels_avx512', 'densenorm_kernels_vnni', 'densenorm_kernels_neon'],
      'conditions': [
        ['OS!="win"', { 'libraries': ['-lpthread'] }],
      ],
    },
  ],
}

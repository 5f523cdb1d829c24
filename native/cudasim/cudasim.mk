# cudasim.mk: builds the CUDA simulator (included by the top Makefile). Outputs under target/cudasim/:
#   driver/  libcuda.so.1 (the driver API on the CPU) + libcudasim-kernels.so (cuda-kernels/*.cu by g++)
#   cuda13/  libcublas.so.13, libcublasLt.so.13, libcudart.so.13 (what bytedeco's JNI libraries link)
#   cuda12/  libcublas.so.12 (what JCublas2 links)
#   tests/   the simulator's own test program and its kernels
# Needs g++ (C++17) and CUDA's headers (cuda_fp16.h, cuda_bf16.h: any CUDA 12/13 toolkit).
SIM := native/cudasim
SIM_OUT := target/cudasim
CUDA_HOME ?= $(firstword $(foreach d,/usr/local/cuda $(patsubst %/bin/nvcc,%,$(realpath $(NVCC))) /usr/lib/cuda,$(if $(wildcard $(d)/include/cuda_fp16.h),$(d))))
SIM_CXX ?= g++
SIM_CXXFLAGS := -std=c++17 -O2 -g -fPIC -fvisibility=hidden -Wall -Wno-sign-compare -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=0 \
  -I$(SIM)/include -I$(CUDA_HOME)/include
# Kernels: no FMA contraction (__fmul_rn/__fadd_rn must stay separately rounded), the source as nvcc sees it.
SIM_KERNEL_FLAGS := -std=c++17 -O2 -g -fPIC -ffp-contract=off -Wno-sign-compare -I$(SIM)/include -Icuda-kernels -I$(CUDA_HOME)/include \
  -include cudasim/device.h
SIM_GEMM_FLAGS := -O3 -march=native
SIM_SRC := $(wildcard $(SIM)/src/*.cpp)
SIM_DRIVER_SRC := $(filter-out $(SIM)/src/cublas.cpp,$(SIM_SRC))
SIM_DRIVER_OBJ := $(patsubst $(SIM)/src/%.cpp,$(SIM_OUT)/obj/%.o,$(SIM_DRIVER_SRC)) $(SIM_OUT)/obj/fiber_switch.o
SIM_HDR := $(wildcard $(SIM)/src/*.hpp) $(wildcard $(SIM)/include/cudasim/*.h)
SIM_KERNEL_OBJ := $(patsubst cuda-kernels/%.cu,$(SIM_OUT)/kernels/%.o,$(KERNEL_SRC))
SIM_LIBS := $(SIM_OUT)/driver/libcuda.so.1 $(SIM_OUT)/driver/libcudasim-kernels.so $(SIM_OUT)/cuda13/libcublas.so.13 \
  $(SIM_OUT)/cuda13/libcublasLt.so.13 $(SIM_OUT)/cuda13/libcudart.so.13 $(SIM_OUT)/cuda12/libcublas.so.12

.PHONY: cudasim cudasim-test
# generated translation units are kept (make would delete them as intermediates and rebuild)
.SECONDARY:
cudasim: $(SIM_LIBS)

$(SIM_OUT)/obj/%.o: $(SIM)/src/%.cpp $(SIM_HDR)
	@mkdir -p $(@D)
	@test -n "$(CUDA_HOME)" || { echo "cudasim: CUDA headers (cuda_fp16.h) not found; set CUDA_HOME"; exit 1; }
	$(SIM_CXX) $(SIM_CXXFLAGS) $(if $(filter cublas.cpp,$(notdir $<)),$(SIM_GEMM_FLAGS)) -c $< -o $@

$(SIM_OUT)/obj/fiber_switch.o: $(SIM)/src/fiber_switch.S
	@mkdir -p $(@D)
	$(SIM_CXX) -c $< -o $@

# Stubs for every imported name a library does not define (gen-stubs.sh); $(1) list, $(2) objects, $(3) status, $(4) output
define sim_stubs
	@mkdir -p $(dir $(4))
	nm -g --defined-only $(2) /dev/null 2>/dev/null | awk 'NF==3 {print $$3}' > $(4).defined
	$(SIM)/gen-stubs.sh $(1) $(4).defined $(3) > $(4)
	rm -f $(4).defined
endef

$(SIM_OUT)/driver/libcuda.so.1: $(SIM_DRIVER_OBJ) $(SIM)/imports/libcuda.so.1.txt $(SIM)/gen-stubs.sh
	$(call sim_stubs,$(SIM)/imports/libcuda.so.1.txt,$(SIM_DRIVER_OBJ),801,$(SIM_OUT)/obj/libcuda-stubs.c)
	gcc -O1 -fPIC -c $(SIM_OUT)/obj/libcuda-stubs.c -o $(SIM_OUT)/obj/libcuda-stubs.o
	@mkdir -p $(@D)
	$(SIM_CXX) -shared -Wl,-soname,libcuda.so.1 -o $@ $(SIM_DRIVER_OBJ) $(SIM_OUT)/obj/libcuda-stubs.o -lpthread -ldl

$(SIM_OUT)/kernels/%.cpp: cuda-kernels/%.cu $(SIM)/kernel-tu.sh
	@mkdir -p $(@D)
	$(SIM)/kernel-tu.sh $< > $@

$(SIM_OUT)/kernels/%.o: $(SIM_OUT)/kernels/%.cpp $(KERNEL_HDR) $(SIM_HDR)
	$(SIM_CXX) $(SIM_KERNEL_FLAGS) -c $< -o $@

$(SIM_OUT)/driver/libcudasim-kernels.so: $(SIM_KERNEL_OBJ) $(SIM_OUT)/driver/libcuda.so.1
	$(SIM_CXX) -shared -o $@ $(SIM_KERNEL_OBJ) -L$(SIM_OUT)/driver -l:libcuda.so.1 -Wl,-rpath,'$$ORIGIN'

# A cuBLAS library: $(1) soname, $(2) directory, $(3) objects (may be empty), $(4) stub status
define sim_blas
$(SIM_OUT)/$(2)/$(1): $(3) $(SIM)/imports/$(1).txt $(SIM)/gen-stubs.sh $(SIM_OUT)/driver/libcuda.so.1
	$$(call sim_stubs,$(SIM)/imports/$(1).txt,$(3),$(4),$(SIM_OUT)/obj/$(1)-stubs.c)
	gcc -O1 -fPIC -c $(SIM_OUT)/obj/$(1)-stubs.c -o $(SIM_OUT)/obj/$(1)-stubs.o
	printf '$(1) { global: *; };\n' > $(SIM_OUT)/obj/$(1).map
	@mkdir -p $$(@D)
	$(SIM_CXX) -shared -Wl,-soname,$(1) -Wl,--version-script=$(SIM_OUT)/obj/$(1).map -o $$@ $(3) $(SIM_OUT)/obj/$(1)-stubs.o \
	  -L$(SIM_OUT)/driver -l:libcuda.so.1 -Wl,-rpath,'$$$$ORIGIN/../driver'
endef
$(eval $(call sim_blas,libcublas.so.13,cuda13,$(SIM_OUT)/obj/cublas.o,15))
$(eval $(call sim_blas,libcublasLt.so.13,cuda13,,15))
$(eval $(call sim_blas,libcudart.so.13,cuda13,,801))
$(eval $(call sim_blas,libcublas.so.12,cuda12,$(SIM_OUT)/obj/cublas.o,15))

# ---------------------------------------------------------------- the simulator's own tests
SIM_TEST_OUT := $(SIM_OUT)/tests
$(SIM_TEST_OUT)/fault_kernels.fatbin: $(SIM)/tests/fault_kernels.cu
	@mkdir -p $(@D)
	@test -n "$(NVCC)" || { echo "cudasim-test: nvcc not found: the simulator's tests load a real fatbin (set NVCC=...)"; exit 1; }
	$(NVCC) -O3 -std=c++14 -fatbin -gencode arch=compute_90,code=sm_90 -gencode arch=compute_75,code=compute_75 -o $@ $<

$(SIM_TEST_OUT)/fault_kernels.cpp: $(SIM)/tests/fault_kernels.cu $(SIM)/kernel-tu.sh
	@mkdir -p $(@D)
	$(SIM)/kernel-tu.sh $< > $@

$(SIM_TEST_OUT)/libfault-kernels.so: $(SIM_TEST_OUT)/fault_kernels.cpp $(SIM_HDR) $(SIM_OUT)/driver/libcuda.so.1
	$(SIM_CXX) $(SIM_KERNEL_FLAGS) -shared -o $@ $< -L$(SIM_OUT)/driver -l:libcuda.so.1 -Wl,-rpath,'$$ORIGIN/../driver'

$(SIM_TEST_OUT)/sim_test: $(SIM)/tests/sim_test.cpp $(SIM_OUT)/driver/libcuda.so.1
	@mkdir -p $(@D)
	$(SIM_CXX) -std=c++17 -O1 -g -I$(CUDA_HOME)/include -o $@ $< -L$(SIM_OUT)/driver -l:libcuda.so.1 -Wl,-rpath,'$$ORIGIN/../driver'

cudasim-test: cudasim $(SIM_TEST_OUT)/sim_test $(SIM_TEST_OUT)/libfault-kernels.so $(SIM_TEST_OUT)/fault_kernels.fatbin
	CUDASIM_KERNELS=$(SIM_TEST_OUT)/libfault-kernels.so $(SIM_TEST_OUT)/sim_test $(SIM_TEST_OUT)/fault_kernels.fatbin

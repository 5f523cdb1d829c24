# cpu-huffman.mk: the CPU Huffman decoder's inner loops in C (included by the top Makefile), built into
# target/native/libentrohuff.so, which the Java decoder loads through the FFM API where it finds it
# (io.entrollm.codec.NativeHuffman; without it the same loops run in Java, ~0.8x as fast). Plain -O3, no
# -march: the library travels in `make dist` bundles. On a Jetson (AArch64) the same rule builds it with
# the board's cc.
HUFF_NATIVE := target/native/libentrohuff.so
HUFF_CC ?= $(shell command -v cc 2>/dev/null || command -v gcc 2>/dev/null)
HUFF_CFLAGS := -std=c11 -O3 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Werror

.PHONY: native-huffman
ifeq ($(strip $(HUFF_CC)),)
native-huffman:
	@echo "native-huffman: no C compiler (cc) found; the CPU decoder runs its inner loops in Java"
else
native-huffman: $(HUFF_NATIVE)
endif

$(HUFF_NATIVE): native/cpu-huffman/entro_huffman.c
	@mkdir -p $(@D)
	$(HUFF_CC) $(HUFF_CFLAGS) -o $@ $<

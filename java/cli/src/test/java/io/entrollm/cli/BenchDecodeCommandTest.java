package io.entrollm.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.entrollm.gpu.Cuda;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;

class BenchDecodeCommandTest {
    @TempDir Path tmp;

    @Test
    void cpuDecodeBenchmarkOnSyntheticTensors() throws IOException {
        Path json = tmp.resolve("b.json");
        CliRun r = CliRun.of("bench", "decode", "--shapes", "256x256,64x1024", "--bits", "8,4", "--device", "cpu", "--warmup", "1",
                "--repeats", "3", "--json", json.toString());
        assertEquals(0, r.exitCode(), r.err());
        assertThat(r.out()).contains("synthetic.256x256.weight").contains("CPU GB/s out").contains("CPU ms, 1 thread")
                .containsPattern("CPU, these tensors: [0-9.]+ ms on 1 thread, [0-9.]+ ms on [0-9]+ \\(sums of medians\\): scaling [0-9.]+x");
        JsonNode rows = new ObjectMapper().readTree(json.toFile()).get("rows");
        assertEquals(4, rows.size());
        for (JsonNode row : rows) {
            assertThat(row.get("cpu_symbols_gbps").asDouble()).isPositive();
            assertThat(row.get("cpu_one_thread_ms").asDouble()).isPositive();
            assertEquals(65536, row.get("weights").asLong(), "256x256 and 64x1024 both hold 65536 weights");
        }
    }

    @Test
    void gpuOnlyWithoutADeviceIsOneClearError() {
        org.junit.jupiter.api.Assumptions.assumeFalse(Cuda.available(), "a GPU is present");
        CliRun r = CliRun.of("bench", "decode", "--shapes", "64x64", "--device", "gpu");
        assertEquals(1, r.exitCode());
        assertEquals(1, r.errLines().length, r.err());
        assertThat(r.err()).contains("--device gpu:");
    }
}

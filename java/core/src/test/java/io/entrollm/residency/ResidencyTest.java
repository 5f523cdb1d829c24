package io.entrollm.residency;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ResidencyTest {
    static final long MiB = 1L << 20;

    /** 8 layers of 100 MiB decoded / 30 MiB coded, 200 MiB of embeddings and head, 50 MiB KV, 20 MiB activations. */
    static final ModelFootprint MODEL = new ModelFootprint(Collections.nCopies(8, 30 * MiB), Collections.nCopies(8, 100 * MiB),
            200 * MiB, 50 * MiB, 20 * MiB);

    @Test
    void requirementsFollowTheModes() {
        long always = 270 * MiB;
        assertEquals(always + 800 * MiB, MODEL.requiredBytes(ResidencyMode.DECODED));
        assertEquals(always + 240 * MiB + 100 * MiB, MODEL.requiredBytes(ResidencyMode.COMPRESSED));
        assertEquals(always + 60 * MiB + 200 * MiB, MODEL.requiredBytes(ResidencyMode.STREAMED));
    }

    @Test
    void choosesTheFastestModeThatFits() {
        assertEquals(ResidencyMode.DECODED, ResidencyPlanner.choose(MODEL, 2L << 30).mode());
        assertEquals(ResidencyMode.DECODED, ResidencyPlanner.choose(MODEL, 1070 * MiB).mode());
        assertEquals(ResidencyMode.COMPRESSED, ResidencyPlanner.choose(MODEL, 1069 * MiB).mode());
        assertEquals(ResidencyMode.COMPRESSED, ResidencyPlanner.choose(MODEL, 610 * MiB).mode());
        ResidencyPlanner.Plan streamed = ResidencyPlanner.choose(MODEL, 600 * MiB);
        assertEquals(ResidencyMode.STREAMED, streamed.mode());
        assertThat(streamed.explanation()).contains("decoded needs").contains("compressed needs").contains("streamed needs");
        assertThat(assertThrows(IllegalArgumentException.class, () -> ResidencyPlanner.choose(MODEL, 500 * MiB)).getMessage())
                .contains("does not fit").contains("--gpu-memory-budget");
    }

    @Test
    void parsesBudgets() {
        assertEquals(3L << 30, ResidencyPlanner.parseBytes("3GiB"));
        assertEquals(512L << 20, ResidencyPlanner.parseBytes("512MiB"));
        assertEquals(1536L << 20, ResidencyPlanner.parseBytes("1.5G"));
        assertEquals(1000, ResidencyPlanner.parseBytes("1000"));
        assertThrows(IllegalArgumentException.class, () -> ResidencyPlanner.parseBytes("lots"));
        assertThrows(IllegalArgumentException.class, () -> ResidencyPlanner.parseBytes("-1G"));
    }

    /** Replays the schedule in issue order on a simulated GPU and checks data and buffer safety. */
    @Property(tries = 30)
    void streamingScheduleIsSafeAndOverlaps(@ForAll @IntRange(min = 1, max = 40) int layers) {
        List<StreamingSchedule.Step> steps = StreamingSchedule.forLayers(layers);
        assertEquals(3 * layers, steps.size());
        Map<String, Integer> at = new HashMap<>();
        for (StreamingSchedule.Step s : steps) at.put(s.stream() + ":" + s.layer(), s.index());
        for (StreamingSchedule.Step s : steps) {
            for (int w : s.waitsFor()) assertThat(w).as("waits only for earlier steps").isLessThan(s.index());
            int i = s.layer();
            switch (s.stream()) {
                case COPY -> { if (i >= 2) assertThat(s.waitsFor()).contains(at.get("DECODE:" + (i - 2)), at.get("COMPUTE:" + (i - 2))); }
                case DECODE -> {
                    assertThat(s.waitsFor()).contains(at.get("COPY:" + i));
                    if (i >= 2) assertThat(s.waitsFor()).contains(at.get("COMPUTE:" + (i - 2)));
                }
                case COMPUTE -> {
                    assertThat(s.waitsFor()).contains(at.get("DECODE:" + i));
                    if (i >= 1) assertThat(s.waitsFor()).contains(at.get("COMPUTE:" + (i - 1)));
                }
            }
            assertEquals(i % 2, s.buffer());
        }
        // per stream, layers are issued in order
        for (StreamingSchedule.Stream st : StreamingSchedule.Stream.values()) {
            List<Integer> order = steps.stream().filter(s -> s.stream() == st).map(StreamingSchedule.Step::layer).toList();
            for (int k = 0; k < order.size(); k++) assertEquals(k, order.get(k));
        }
        // overlap: the copy of layer i+1 is issued before the compute of layer i, so it can run during it
        for (int i = 0; i + 1 < layers; i++) assertThat(at.get("COPY:" + (i + 1))).isLessThan(at.get("COMPUTE:" + i));
    }
}

import Benchmark
import NIOCore
import RESP

// RESP codec hot paths. Each benchmark iteration does 1000 operations (scalingFactor .kilo),
// so wall-clock figures are per 1000 ops and malloc counts show whether the hot path allocates.
//   cd Benchmarks && swift package benchmark --target RESPBenchmarks --no-progress

/// `count` copies of `frame` back to back.
private func repeated(_ frame: ByteBuffer, _ count: Int) -> ByteBuffer {
    var out = ByteBuffer()
    for _ in 0..<count { out.writeImmutableBuffer(frame) }
    return out
}

private func commandFrame(_ write: (inout ByteBuffer) -> Void) -> ByteBuffer {
    var buffer = ByteBuffer()
    write(&buffer)
    return buffer
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )

    let key = ByteBuffer(string: "key:000000012345")
    let value100 = ByteBuffer(repeating: UInt8(ascii: "v"), count: 100)
    let getFrame = commandFrame { $0.writeRESPGetCommand(key: key) }
    let setFrame = commandFrame { $0.writeRESPSetCommand(key: key, value: value100) }
    let pipeline16 = repeated(setFrame, 16)
    let inlinePing = ByteBuffer(string: "PING\r\n")

    /// Parses every command in a copy of `template` (the copy shares storage: no allocation).
    @inline(__always)
    func parseAll(_ template: ByteBuffer, _ parser: inout RESPCommandParser) -> Int {
        var buffer = template
        var count = 0
        while let command = try! parser.next(from: &buffer) {
            count &+= command.count
        }
        return count
    }

    Benchmark("RESP.parse.GET") { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(getFrame, &parser)) }
    }

    Benchmark("RESP.parse.SET100B") { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(setFrame, &parser)) }
    }

    Benchmark("RESP.parse.pipeline16xSET100B") { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(pipeline16, &parser)) }
    }

    Benchmark("RESP.parse.inlinePING") { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(inlinePing, &parser)) }
    }

    Benchmark("RESP.parse.SET100B.dispatch") { benchmark in
        // Parse plus the lookups a server does: command name key and an option check.
        var parser = RESPCommandParser()
        let set = CommandName("SET")
        for _ in benchmark.scaledIterations {
            var buffer = setFrame
            let command = try! parser.next(from: &buffer)!
            blackHole(command.name == set && !command.argument(1, equalsUppercased: "NX"))
        }
    }

    Benchmark("RESP.encode.bulk100B") { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPBulkString(value100)
            blackHole(out.readableBytes)
        }
    }

    Benchmark("RESP.encode.integer") { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        var n: Int64 = 1_234_567
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPInteger(n)
            n &+= 7919
            blackHole(out.readableBytes)
        }
    }

    Benchmark("RESP.encode.OK+null") { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPSimpleString("OK")
            out.writeRESPNull(.v2)
            blackHole(out.readableBytes)
        }
    }

    Benchmark("RESP.encode.SETcommand100B") { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPSetCommand(key: key, value: value100)
            blackHole(out.readableBytes)
        }
    }

    Benchmark("RESP.encode.variadicCommand") { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPCommand("SET", key, value100, "EX", 10)
            blackHole(out.readableBytes)
        }
    }

    let okReply = ByteBuffer(string: "+OK\r\n")
    let bulkReply = commandFrame { $0.writeRESPBulkString(value100) }
    Benchmark("RESP.decodeReply.OK") { benchmark in
        var parser = RESPValueParser()
        for _ in benchmark.scaledIterations {
            var buffer = okReply
            blackHole(try! parser.next(from: &buffer))
        }
    }

    Benchmark("RESP.decodeReply.bulk100B") { benchmark in
        var parser = RESPValueParser()
        for _ in benchmark.scaledIterations {
            var buffer = bulkReply
            blackHole(try! parser.next(from: &buffer))
        }
    }

    // Exact allocation counts per single operation (the scaled benchmarks above report per-op
    // averages, which would round a rare allocation down to 0). The closure runs once per
    // iteration, so any set-up inside it counts unless measurement starts after it.
    let exact = Benchmark.Configuration(metrics: [.mallocCountTotal, .wallClock], scalingFactor: .one, maxDuration: .seconds(1), maxIterations: 1000)
    let set7Frame = commandFrame { $0.writeRESPCommand("SET", key, value100, "EX", 10, "NX", "GET") }
    Benchmark("RESP.exactMallocs.parse.SET100B", configuration: exact) { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(setFrame, &parser)) }
    }
    Benchmark("RESP.exactMallocs.parse.pipeline16xSET100B", configuration: exact) { benchmark in
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(pipeline16, &parser)) }
    }
    Benchmark("RESP.exactMallocs.parse.7args", configuration: exact) { benchmark in
        // 7 arguments: one more than the inline storage, so exactly one allocation is expected.
        var parser = RESPCommandParser()
        for _ in benchmark.scaledIterations { blackHole(parseAll(set7Frame, &parser)) }
    }
    Benchmark("RESP.exactMallocs.encode.bulk100B+integer", configuration: exact) { benchmark in
        var out = ByteBuffer()
        out.reserveCapacity(4096)
        benchmark.startMeasurement()  // the closure runs once per iteration: keep the buffer set-up out
        for _ in benchmark.scaledIterations {
            out.clear()
            out.writeRESPBulkString(value100)
            out.writeRESPInteger(Int64(-123_456_789))
            blackHole(out.readableBytes)
        }
    }
    Benchmark("RESP.exactMallocs.decodeReply.bulk100B", configuration: exact) { benchmark in
        var parser = RESPValueParser()
        for _ in benchmark.scaledIterations {
            var buffer = bulkReply
            blackHole(try! parser.next(from: &buffer))
        }
    }
}

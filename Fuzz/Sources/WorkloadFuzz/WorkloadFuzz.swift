import FuzzShim
import KVWorkload

// Input: a workload file's text (any bytes; invalid UTF-8 is repaired as when a file is read).
// It is parsed as Java properties, loaded, turned into a WorkloadSpec, and checked for typos;
// `warmup` and `phases` values also go straight to their own parsers. Errors are fine, traps are not.

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    var properties = WorkloadProperties()
    do {
        try properties.load(text: text, fileName: "fuzz")
    } catch {
        return 0
    }
    _ = properties.typoWarnings()
    for key in properties.keysInOrder {
        let value = properties[key] ?? ""
        _ = Warmup.parse(value)
        if let phases = Phase.parseList(value) {
            for phase in phases { _ = phase.rate(at: phase.duration / 2) }
        }
        _ = try? properties.override(key + "=" + value)
    }
    if let spec = try? WorkloadSpec(properties: properties) {
        precondition(spec.proportions.reduce(0, +) > 0, "a valid spec has some operation")
        _ = spec.keyNamer
    }
    return 0
}

/// libFuzzer's per-input entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

/// SwiftPM links executables with `--defsym main=WorkloadFuzz_main`; hand control to libFuzzer.
@_cdecl("WorkloadFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}

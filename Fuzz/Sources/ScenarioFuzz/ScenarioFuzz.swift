import FuzzShim
import KVScenario

// Input: a scenario file's text (any bytes; invalid UTF-8 is repaired as when a file is read). It goes
// through YAML decoding and validation; errors are fine, traps are not. A scenario that parses must
// hold what the runner relies on: events in time order, within the run, naming known nodes.

func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    _ = ScenarioFile.seconds(text)
    guard let scenario = try? ScenarioFile.parse(text, source: "fuzz") else { return 0 }
    let ids = Set(scenario.nodeIDs)
    var last = -Double.infinity
    for event in scenario.events {
        precondition(event.at >= last, "events must come out in time order")
        last = event.at
        if let duration = scenario.duration { precondition(event.at <= duration, "an event after the run passed validation") }
        if let node = event.node { precondition(ids.contains(node), "an event names node \(node), not in \(ids.sorted())") }
    }
    precondition(Scenario.inTimeOrder(scenario.events) == scenario.events, "sorting sorted events changed them")
    return 0
}

/// libFuzzer's per-input entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data, size)
}

/// SwiftPM links executables with `--defsym main=ScenarioFuzz_main`; hand control to libFuzzer.
@_cdecl("ScenarioFuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var count = argc
    var arguments: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in testOneInput(data, size) }
}

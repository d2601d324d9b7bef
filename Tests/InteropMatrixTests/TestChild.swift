import CShimLinux
import Foundation
import Synchronization

/// A program a test starts: spawned with `posix_spawn`, its pipes made close-on-exec at birth, read and
/// written with interrupted calls retried, and waited for with `waitpid`.
///
/// Not Foundation's `Process`: under CI's parallel test run its `run()` trapped while another thread of
/// the same process opened descriptors, and its `FileHandle` reads end the whole test process on EINTR.
final class TestChild: @unchecked Sendable {
    /// Where one of the child's standard streams goes.
    enum Stream { case pipe, null }

    let pid: pid_t
    /// Our ends of the child's pipes, -1 where the stream goes to /dev/null (or was closed).
    private let descriptors: Mutex<(input: Int32, output: Int32, errors: Int32)>
    private let ended = Mutex<Int32?>(nil)

    init(_ executable: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
         input: Stream = .null, output: Stream = .pipe, errors: Stream = .pipe) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var ours: [Int32] = [-1, -1, -1]
        var theirs: [Int32] = []
        defer { theirs.forEach { close($0) } }
        for (target, stream) in [input, output, errors].enumerated() {
            switch stream {
            case .null:
                posix_spawn_file_actions_addopen(&actions, Int32(target), "/dev/null", target == 0 ? O_RDONLY : O_WRONLY, 0)
            case .pipe:
                var ends: [Int32] = [-1, -1]
                guard CShimLinux_pipe_cloexec(&ends) == 0 else {
                    ours.filter { $0 >= 0 }.forEach { close($0) }
                    throw TestChildError.system("pipe", errno)
                }
                let (child, parent) = target == 0 ? (ends[0], ends[1]) : (ends[1], ends[0])
                ours[target] = parent
                theirs.append(child)
                posix_spawn_file_actions_adddup2(&actions, child, Int32(target))
            }
        }
        // The child keeps only its three streams: a descriptor another thread holds without
        // close-on-exec as this spawn happens (Foundation's atomic write of a test's script) would
        // otherwise live as long as the child, and that script could not be run meanwhile (ETXTBSY
        // for the whole of a CLI test's run, which failed a worker test in CI).
        let closing = CShimLinux_spawn_add_closefrom(&actions, 3)
        guard closing == 0 else {
            ours.filter { $0 >= 0 }.forEach { close($0) }
            throw TestChildError.system("posix_spawn_file_actions_addclosefrom_np", closing)
        }
        if let directory {
            let status = CShimLinux_spawn_add_chdir(&actions, directory)
            guard status == 0 else {
                ours.filter { $0 >= 0 }.forEach { close($0) }
                throw TestChildError.system("chdir \(directory)", status)
            }
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with no signal blocked (a test's thread may block some) and the usual
        // dispositions (the test process ignores SIGPIPE).
        var none = sigset_t()
        sigemptyset(&none)
        posix_spawnattr_setsigmask(&attributes, &none)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGALRM, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let environment = environment ?? ProcessInfo.processInfo.environment
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { (argv + envp).forEach { free($0) } }
        var pid: pid_t = 0
        var status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        // "Text file busy": the program is still open for writing somewhere (another thread's
        // spawn held a descriptor to it for a moment); it passes.
        for _ in 0..<40 where status == ETXTBSY {
            usleep(25_000)
            status = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard status == 0 else {
            ours.filter { $0 >= 0 }.forEach { close($0) }
            throw TestChildError.system("posix_spawn \(executable)", status)
        }
        self.pid = pid
        descriptors = Mutex((ours[0], ours[1], ours[2]))
    }

    /// Runs a program to its end with `input` on its stdin; its status and both outputs.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                    directory: String? = nil, input: String? = nil) async throws -> CLIRun {
        try await offPool {
            let child = try TestChild(executable, arguments, environment: environment, directory: directory, input: .pipe)
            if let input { child.write(Data(input.utf8)) }
            child.closeInput()
            let (output, errors) = child.readToEnd()
            return CLIRun(status: child.wait(), output: String(decoding: output, as: UTF8.self), errors: String(decoding: errors, as: UTF8.self))
        }
    }

    deinit {
        let ends = descriptors.withLock { $0 }
        [ends.input, ends.output, ends.errors].filter { $0 >= 0 }.forEach { close($0) }
        if ended.withLock({ $0 }) == nil { Glibc.kill(pid, SIGKILL); _ = wait() }
    }

    /// Writes all of `data` to the child's stdin (a child gone is not an error: its status tells).
    func write(_ data: Data) {
        let fd = descriptors.withLock { $0.input }
        guard fd >= 0 else { return }
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue } else { return } }
                offset += written
            }
        }
    }

    func closeInput() { closeDescriptor(\.input) }
    func closeOutput() { closeDescriptor(\.output) }

    /// One read of stdout: what is there, waiting for something; empty at its end.
    func readOutputChunk() -> Data { readChunk(descriptors.withLock { $0.output }) }

    /// One read of stderr, as `readOutputChunk` reads stdout.
    func readErrorsChunk() -> Data { readChunk(descriptors.withLock { $0.errors }) }

    private func readChunk(_ fd: Int32) -> Data {
        guard fd >= 0 else { return Data() }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count >= 0 { return Data(buffer.prefix(count)) }
            if errno != EINTR { return Data() }
        }
    }

    /// stdout and stderr, both read to their end at once (neither pipe can fill and block the child).
    func readToEnd() -> (output: Data, errors: Data) {
        let ends = descriptors.withLock { $0 }
        var open = [ends.output, ends.errors]
        var read = [Data(), Data()]
        var buffer = [UInt8](repeating: 0, count: 65536)
        while open.contains(where: { $0 >= 0 }) {
            var polled = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&polled, nfds_t(polled.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for index in 0..<2 where open[index] >= 0 && polled[index].revents != 0 {
                let count = Glibc.read(open[index], &buffer, buffer.count)
                if count > 0 { read[index] += buffer.prefix(count) }
                if count == 0 || (count < 0 && errno != EINTR && errno != EAGAIN) { open[index] = -1 }
            }
        }
        return (read[0], read[1])
    }

    /// Waits for the child's end: its exit status, or the number of the signal that ended it (as
    /// Foundation's `terminationStatus`).
    @discardableResult
    func wait() -> Int32 {
        if let status = ended.withLock({ $0 }) { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let status = raw & 0x7f == 0 ? (raw >> 8) & 0xff : raw & 0x7f
        ended.withLock { $0 = status }
        return status
    }

    /// Sends `signal` unless the child has already been reaped (its pid may belong to another by then).
    func kill(_ signal: Int32 = SIGKILL) {
        if ended.withLock({ $0 }) == nil { Glibc.kill(pid, signal) }
    }

    /// Everything `fd` gives until its end (a FIFO's writer closing it), interrupted reads retried.
    static func readAll(_ fd: Int32) -> Data {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(fd, &buffer, buffer.count)
            if count > 0 { data += buffer.prefix(count) } else if count == 0 || errno != EINTR { return data }
        }
    }

    private func closeDescriptor(_ which: WritableKeyPath<(input: Int32, output: Int32, errors: Int32), Int32>) {
        descriptors.withLock { ends in
            if ends[keyPath: which] >= 0 { close(ends[keyPath: which]) }
            ends[keyPath: which] = -1
        }
    }
}

enum TestChildError: Error, CustomStringConvertible {
    case system(String, Int32)
    var description: String {
        switch self {
        case .system(let call, let code): "\(call): \(String(cString: strerror(code)))"
        }
    }
}

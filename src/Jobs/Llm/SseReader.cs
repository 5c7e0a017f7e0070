namespace AgentWorker.Jobs.Llm;

/// <summary>
/// Server-sent events from a response body, one event's <c>data</c> at a time, read as bytes: one event (its data and
/// the line being read) never takes more than <paramref name="maxEventBytes"/> (Llm:MaxMessageBytes); a longer one
/// fails the turn with <see cref="ModelFailureKind.MessageTooLarge"/> without being read further.
/// </summary>
internal sealed class SseReader(Stream stream, int maxEventBytes)
{
    private readonly byte[] _chunk = new byte[16 * 1024];
    private int _chunkStart;
    private int _chunkEnd;

    /// <summary>The event's data, then the line being read (from <see cref="_dataLength"/> to <see cref="_length"/>).</summary>
    private byte[] _event = new byte[16 * 1024];
    private int _dataLength;
    private int _length;
    private bool _hasData;

    /// <summary>A line ended with CR: a LF right after it belongs to the same line end.</summary>
    private bool _afterCarriageReturn;

    /// <summary>The next event's data (lines joined with LF), valid until the next call; null at the end of the stream.</summary>
    public async ValueTask<ReadOnlyMemory<byte>?> ReadAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_chunkStart == _chunkEnd)
            {
                _chunkStart = 0;
                _chunkEnd = await stream.ReadAsync(_chunk, cancellationToken);
                if (_chunkEnd == 0)
                {
                    return null; // an event the stream did not finish is not dispatched
                }
            }
            var pending = _chunk.AsSpan(_chunkStart, _chunkEnd - _chunkStart);
            if (_afterCarriageReturn && pending[0] == (byte)'\n')
            {
                _chunkStart++;
                _afterCarriageReturn = false;
                continue;
            }
            _afterCarriageReturn = false;
            var end = pending.IndexOfAny((byte)'\n', (byte)'\r');
            Append(end < 0 ? pending : pending[..end]);
            if (end < 0)
            {
                _chunkStart = _chunkEnd;
                continue;
            }
            _afterCarriageReturn = pending[end] == (byte)'\r';
            _chunkStart += end + 1;
            if (EndLine() is { } data)
            {
                return data;
            }
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > maxEventBytes)
        {
            throw ModelException.MessageTooLarge("An SSE event", maxEventBytes);
        }
        if (_length + bytes.Length > _event.Length)
        {
            Array.Resize(ref _event, (int)Math.Min(Math.Max(2L * _event.Length, _length + bytes.Length), maxEventBytes));
        }
        bytes.CopyTo(_event.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>The line just read ends: a blank line dispatches the event (returned), a <c>data</c> line adds to it.</summary>
    private ReadOnlyMemory<byte>? EndLine()
    {
        var line = _event.AsSpan(_dataLength, _length - _dataLength);
        if (line.IsEmpty)
        {
            if (!_hasData)
            {
                return null;
            }
            var data = _event.AsMemory(0, _dataLength);
            _dataLength = _length = 0;
            _hasData = false;
            return data;
        }
        var colon = line.IndexOf((byte)':');
        if (colon == 4 && line.StartsWith("data"u8))
        {
            var value = line[5..];
            if (value.Length > 0 && value[0] == (byte)' ')
            {
                value = value[1..];
            }
            var at = _dataLength;
            if (_hasData)
            {
                _event[at++] = (byte)'\n';
            }
            value.CopyTo(_event.AsSpan(at)); // to the left, within the same buffer: CopyTo handles the overlap
            _dataLength = at + value.Length;
            _hasData = true;
        }
        // Other fields (event:, id:, retry:) and comments (":...") carry nothing the turn needs.
        _length = _dataLength;
        return null;
    }
}

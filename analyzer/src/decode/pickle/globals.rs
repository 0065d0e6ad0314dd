/*!
The fixed table of globals the pickle decoder knows, by module and name (Python 3 names and the
Python 2 ones protocol 2 writes: `__builtin__`, `copy_reg`). Nothing is ever imported.
*/

/// The globals the decoder knows; anything else is [`Global::Other`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Global {
    List,
    Dict,
    ByteArray,
    Object,
    GetAttr,
    Encode,
    Reconstructor,
    NewObj,
    Decimal,
    DateTime,
    Date,
    Time,
    TimeDelta,
    TimeZone,
    ZoneInfo,
    ZoneUnpickle,
    PytzUtc,
    PytzP,
    ModelUnpickle,
    Uuid,
    Other,
}

pub(super) fn global(module: &[u8], name: &[u8]) -> Global {
    use Global::*;
    match (module, name) {
        (b"builtins" | b"__builtin__", n) => match n {
            b"set" | b"frozenset" | b"list" | b"tuple" => List,
            b"dict" => Dict,
            b"bytearray" | b"bytes" => ByteArray,
            b"object" => Object,
            b"getattr" => GetAttr,
            _ => Other,
        },
        (b"_codecs", b"encode") => Encode,
        (b"copyreg" | b"copy_reg", b"_reconstructor") => Reconstructor,
        (b"copyreg" | b"copy_reg", b"__newobj__") => NewObj,
        (b"collections", b"OrderedDict" | b"defaultdict") => Dict,
        (b"collections", b"deque") => List,
        (b"decimal" | b"_decimal" | b"_pydecimal", b"Decimal") => Decimal,
        (b"datetime", b"datetime") => DateTime,
        (b"datetime", b"date") => Date,
        (b"datetime", b"time") => Time,
        (b"datetime", b"timedelta") => TimeDelta,
        (b"datetime", b"timezone") => TimeZone,
        (b"zoneinfo" | b"zoneinfo._zoneinfo", b"ZoneInfo") => ZoneInfo,
        (b"zoneinfo" | b"zoneinfo._zoneinfo", b"ZoneInfo._unpickle") => ZoneUnpickle,
        (b"pytz", b"_UTC") => PytzUtc,
        (b"pytz", b"_p") => PytzP,
        (b"django.db.models.base", b"model_unpickle") => ModelUnpickle,
        (b"uuid", b"UUID") => Uuid,
        _ => Other,
    }
}

"""A synthetic dispatch history of a fictional city's complaint centre (README.md here).

Real dispatch histories are personal data and cannot ship; this one is generated, seeded and
reproducible, and built to be hard in the ways real ones are: about 200 agencies of which most
are units (UPT) told apart only by a place name, topics shared between agencies (a road is
national, provincial or the city's; a fallen tree is the environment office's, the disaster
office's or public works'), typos and SMS abbreviations, Javanese and Sundanese words, phone
numbers and e-mail addresses inside texts, labels written several ways, and the dispatchers'
own mistakes (a share of rows sent to a neighbouring agency).

    python tests/data/dispatch.py --rows 2000 --out tests/data/dispatch_train.csv --seed 1
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# fmt: off
DISTRICTS = [
    "Sukamaju", "Cibeureum", "Karanganyar", "Sidomulyo", "Tegalrejo", "Banjarsari", "Kedungwaru",
    "Sumbersari", "Margahayu", "Pasirjati", "Rancabali", "Ngadirejo", "Wonosari", "Cipedes",
    "Tamansari", "Sukasari", "Bojongloa", "Gunungsari", "Kaliwungu", "Plumbon", "Mekarsari",
    "Jatiwangi", "Purwodadi", "Ciherang", "Sindangbarang", "Tanjungsari", "Kramat", "Lowokwaru",
    "Blimbing", "Klojen", "Pakisaji", "Tumpang", "Dau", "Singosari", "Lawang", "Karangploso",
    "Batu", "Junrejo", "Bumiaji", "Turen",
]
STREETS = ["Melati", "Mawar", "Merdeka", "Sudirman", "Diponegoro", "Ahmad Yani", "Pahlawan",
           "Kenanga", "Cempaka", "Gatot Subroto", "Veteran", "Pemuda", "Kartini", "Imam Bonjol"]

# agency code: (the centre's name for it, variants, topic phrases)
CENTRAL_AGENCIES: dict[str, tuple[str, list[str], list[str]]] = {
    "dinas-pupr": ("Dinas Pekerjaan Umum dan Penataan Ruang", ["DINAS PUPR", "Dinas PU & PR"], [
        "jalan berlubang", "jalan rusak parah", "aspal mengelupas", "drainase tersumbat",
        "gorong-gorong ambrol", "trotoar rusak", "jembatan retak", "saluran air meluap ke jalan",
        "tanggul sungai jebol", "jalan kampung belum diaspal", "proyek galian tidak ditutup"]),
    "bpjn": ("Balai Pelaksanaan Jalan Nasional", ["BPJN"], [
        "jalan nasional berlubang", "jalur lintas provinsi rusak", "jalan arteri nasional amblas",
        "marka jalan nasional hilang", "jalan rusak di jalur bypass"]),
    "dpu-provinsi": ("Dinas PU Bina Marga Provinsi", ["Bina Marga Prov"], [
        "jalan provinsi rusak", "ruas jalan provinsi berlubang", "jembatan provinsi retak"]),
    "dlh": ("Dinas Lingkungan Hidup", ["DLH", "Dinas LH"], [
        "sampah menumpuk", "TPS penuh tidak diangkut", "bau busuk dari tempat sampah",
        "pembakaran sampah", "limbah pabrik dibuang ke sungai", "sungai tercemar",
        "penebangan pohon peneduh", "pohon tumbang menutup jalan", "asap pabrik mengganggu"]),
    "dishub": ("Dinas Perhubungan", ["DISHUB"], [
        "lampu lalu lintas mati", "parkir liar", "juru parkir liar minta uang lebih",
        "angkot ngetem sembarangan", "terminal kotor", "truk besar lewat jalan kampung",
        "rambu lalu lintas roboh", "kemacetan parah tiap pagi"]),
    "disperkim": ("Dinas Perumahan dan Kawasan Permukiman", ["DISPERKIM"], [
        "lampu penerangan jalan umum mati", "PJU padam", "rumah tidak layak huni",
        "taman kota rusak", "makam umum tidak terawat", "bedah rumah belum cair"]),
    "satpol-pp": ("Satuan Polisi Pamong Praja", ["SATPOL PP", "Satpol PP Kota"], [
        "pedagang kaki lima di trotoar", "PKL berjualan di bahu jalan", "bangunan liar",
        "tempat hiburan malam buka sampai pagi", "penjualan minuman keras", "reklame liar",
        "gepeng dan pengamen di perempatan", "warung remang-remang"]),
    "disdukcapil": ("Dinas Kependudukan dan Pencatatan Sipil", ["DISDUKCAPIL", "Dukcapil"], [
        "KTP elektronik belum jadi", "blanko KTP habis", "kartu keluarga salah nama",
        "akta kelahiran lama sekali", "antrean dukcapil panjang", "pindah domisili dipersulit",
        "data kependudukan ganda"]),
    "dinkes": ("Dinas Kesehatan", ["DINKES"], [
        "kasus demam berdarah", "minta fogging", "stunting di kampung kami",
        "vaksinasi anak", "posyandu tidak aktif", "klinik tanpa izin", "obat kedaluwarsa dijual"]),
    "rsud": ("RSUD Kota", ["RSUD", "Rumah Sakit Umum Daerah"], [
        "pelayanan IGD lambat", "pasien ditolak rumah sakit", "kamar rawat inap penuh",
        "perawat rumah sakit judes", "antrean poli rumah sakit", "biaya rumah sakit mahal"]),
    "bpjs-kesehatan": ("BPJS Kesehatan Cabang", ["BPJS Kes"], [
        "kartu BPJS nonaktif", "iuran BPJS naik", "pindah faskes BPJS", "denda BPJS",
        "peserta PBI dicoret"]),
    "disdik": ("Dinas Pendidikan", ["DISDIK", "Dinas Pendidikan Kota"], [
        "PPDB zonasi curang", "guru honorer belum digaji", "dana BOS",
        "seragam sekolah dijual mahal",
        "sekolah minta sumbangan", "gedung sekolah rusak", "ijazah ditahan sekolah"]),
    "dinsos": ("Dinas Sosial", ["DINSOS"], [
        "bansos tidak tepat sasaran", "PKH dicoret", "BLT belum cair", "tidak masuk DTKS",
        "ODGJ terlantar di jalan", "anak jalanan", "lansia terlantar", "bantuan sembako"]),
    "disnaker": ("Dinas Tenaga Kerja", ["DISNAKER"], [
        "PHK sepihak", "gaji di bawah UMK", "pesangon tidak dibayar", "THR belum dibayar",
        "lowongan kerja palsu", "pelatihan kerja"]),
    "dpmptsp": ("Dinas Penanaman Modal dan PTSP", ["DPMPTSP", "Perizinan"], [
        "izin usaha lama keluar", "PBG belum terbit", "NIB lewat OSS error", "izin reklame",
        "izin mendirikan bangunan"]),
    "bapenda": ("Badan Pendapatan Daerah", ["BAPENDA"], [
        "tagihan PBB naik", "NJOP tidak wajar", "BPHTB", "pajak restoran",
        "SPPT PBB belum datang"]),
    "pdam": ("Perumda Air Minum", ["PDAM", "Perumda Tirta"], [
        "air PDAM mati", "air keruh", "tagihan air membengkak", "pipa PDAM bocor",
        "meteran air rusak", "air kecil sekali alirannya"]),
    "pln": ("PLN UP3", ["PLN"], [
        "listrik padam", "token listrik", "tiang listrik miring", "kabel listrik menjuntai",
        "tegangan listrik naik turun", "pemadaman bergilir"]),
    "damkar": ("Dinas Pemadam Kebakaran", ["DAMKAR"], [
        "sarang tawon di rumah", "hidran tidak berfungsi", "kebakaran lahan", "ular masuk rumah"]),
    "bpbd": ("Badan Penanggulangan Bencana Daerah", ["BPBD"], [
        "banjir setinggi lutut", "tanah longsor", "pohon tumbang",
        "rumah rusak angin puting beliung",
        "tebing rawan longsor"]),
    "disperindag": ("Dinas Perdagangan", ["DISDAG"], [
        "harga minyak goreng mahal", "timbangan pedagang curang", "pasar becek", "kios pasar",
        "gas elpiji langka"]),
    "diskominfo": ("Dinas Komunikasi dan Informatika", ["DISKOMINFO"], [
        "website pemkot tidak bisa dibuka", "wifi publik mati", "menara BTS",
        "aplikasi layanan error"]),
    "kemenag": ("Kantor Kementerian Agama", ["Kemenag"], [
        "pendaftaran nikah di KUA", "biaya nikah", "antrean haji", "madrasah"]),
    "samsat": ("UPT Samsat", ["SAMSAT"], [
        "pajak kendaraan", "balik nama kendaraan", "plat nomor belum jadi", "STNK hilang"]),
    "bkpsdm": ("Badan Kepegawaian Daerah", ["BKPSDM"], [
        "pegawai bolos saat jam kerja", "ASN main game saat melayani", "seleksi PPPK",
        "honorer dirumahkan"]),
    "dispertan": ("Dinas Pertanian", ["DISPERTAN"], [
        "pupuk subsidi langka", "harga gabah anjlok", "irigasi sawah kering", "hama tikus"]),
    "disporapar": ("Dinas Pemuda Olahraga dan Pariwisata", ["DISPORAPAR"], [
        "stadion tidak terawat", "tiket wisata mahal", "fasilitas GOR rusak",
        "objek wisata kotor"]),
}
# fmt: on

UNIT_TOPICS = {
    "puskesmas": (
        "UPT Puskesmas",
        "dinkes",
        [
            "antrean puskesmas",
            "dokter puskesmas tidak ada",
            "obat di puskesmas habis",
            "pelayanan puskesmas",
            "bidan puskesmas",
            "ambulans puskesmas",
        ],
    ),
    "kecamatan": (
        "Kecamatan",
        None,
        [
            "pelayanan kantor kecamatan",
            "camat",
            "surat keterangan di kecamatan",
            "rekomendasi kecamatan",
            "kegiatan musrenbang",
        ],
    ),
    "kelurahan": (
        "Kelurahan",
        None,
        [
            "surat pengantar kelurahan",
            "lurah jarang di kantor",
            "pelayanan kelurahan",
            "ketua RT",
            "pos ronda",
            "kerja bakti kampung",
        ],
    ),
    "pasar": (
        "UPT Pasar",
        "disperindag",
        [
            "los pasar bocor",
            "retribusi pasar",
            "pasar kumuh",
            "parkir pasar semrawut",
        ],
    ),
    "kua": (
        "KUA",
        "kemenag",
        [
            "pendaftaran nikah",
            "penghulu terlambat",
            "buku nikah",
            "rujuk dan cerai",
        ],
    ),
    "smpn": (
        "SMP Negeri",
        "disdik",
        [
            "guru sering tidak masuk",
            "sekolah menahan rapor",
            "pungutan sekolah",
            "kantin sekolah",
            "PPDB di sekolah",
            "perundungan murid",
        ],
    ),
}

OPENERS = [
    "",
    "",
    "Selamat pagi admin, ",
    "Permisi min, ",
    "Assalamualaikum. ",
    "Yth. Bapak/Ibu, ",
    "Lapor! ",
    "Mohon bantuannya, ",
    "Punten, ",
    "Nyuwun sewu, ",
    "Tolong ",
    "Halo, ",
]
DETAILS = [
    "sudah lebih dari seminggu",
    "sudah berbulan-bulan",
    "sejak kemarin sore",
    "sudah lapor ke RT tapi belum ada tindakan",
    "warga resah",
    "sangat mengganggu",
    "banyak warga mengeluh",
    "mboten wonten tindak lanjut",
    "teu acan aya tindakan",
    "kondisinya makin parah",
    "membahayakan anak-anak",
    "sampai sekarang belum beres",
]
CLOSERS = [
    "",
    "Mohon segera ditindaklanjuti.",
    "Terima kasih.",
    "Matur nuwun.",
    "Hatur nuhun.",
    "Tolong diperhatikan.",
    "Kapan diperbaiki?",
    "Mohon solusinya.",
]
CONTACTS = [
    "Hub saya di 0812-3456-7890",
    "WA 085712345678",
    "email saya warga.kita@contoh.id",
    "no hp +6281398765432",
    "NIK saya 3273011201900001",
]
ABBREVIATIONS = {
    "yang": "yg",
    "dengan": "dgn",
    "tidak": "tdk",
    "sudah": "sdh",
    "belum": "blm",
    "tolong": "tlg",
    "karena": "krn",
    "sampai": "sampe",
    "sekali": "bgt",
    "jalan": "jln",
    "untuk": "utk",
    "sekarang": "skrg",
    "banyak": "byk",
}


@dataclass(frozen=True)
class Agency:
    """One agency of the fictional city: its config code, the centre's name, its topics."""

    code: str
    name: str
    variants: tuple[str, ...]
    topics: tuple[str, ...]
    place: str | None  # a unit's district: the only thing telling it from its siblings
    neighbour: str | None  # where a hurried dispatcher may send its reports instead


def agencies(districts: int = 40) -> list[Agency]:
    """The city's agencies: the central offices and per-district units (~200 for 40)."""
    out = [
        Agency(code, name, tuple(variants), tuple(topics), None, None)
        for code, (name, variants, topics) in CENTRAL_AGENCIES.items()
    ]
    for district in DISTRICTS[:districts]:
        slug = district.lower()
        for unit, (prefix, parent, topics) in UNIT_TOPICS.items():
            if unit in ("pasar", "kua") and DISTRICTS.index(district) % 2:
                continue  # a market and a religious affairs office serve two districts
            if unit == "smpn" and DISTRICTS.index(district) % 3:
                continue  # not every district has its own state junior high in this city
            name = f"{prefix} {district}"
            variants = (name.upper(), f"{prefix.split()[-1]} {district}")
            out.append(Agency(f"{unit}-{slug}", name, variants, tuple(topics), district, parent))
    return out


def _typos(text: str, rng: random.Random) -> str:
    words = text.split()
    for i, word in enumerate(words):
        roll = rng.random()
        if word.lower() in ABBREVIATIONS and roll < 0.4:
            words[i] = ABBREVIATIONS[word.lower()]
        elif len(word) > 4 and roll < 0.05:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1 :]  # a dropped letter
        elif len(word) > 4 and roll < 0.08:
            j = rng.randrange(1, len(word) - 2)
            words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]  # swapped letters
    return " ".join(words)


def complaint(agency: Agency, rng: random.Random) -> str:
    """One citizen's text about a topic of the agency."""
    topic = rng.choice(agency.topics)
    if (
        agency.place is None
        and agency.code in ("dinas-pupr", "dinkes", "disdik")
        and rng.random() < 0.3
    ):
        topic = f"{topic}, {rng.choice(agency.topics)}"
    district = agency.place or rng.choice(DISTRICTS)
    where = rng.choice(
        [
            f"di Jl. {rng.choice(STREETS)} no {rng.randint(1, 200)}",
            f"di kelurahan {district}" if agency.place is None else f"di {district}",
            f"dekat pasar {district}",
            f"di RT 0{rng.randint(1, 9)}/RW 0{rng.randint(1, 9)}",
            f"kecamatan {district}",
        ]
    )
    if agency.place and rng.random() < 0.8:
        where = (
            f"{where} ({agency.name.split(' ', 1)[0]} {district})"
            if rng.random() < 0.5
            else f"di {district}"
        )
    parts = [rng.choice(OPENERS) + f"{topic} {where}", rng.choice(DETAILS)]
    if rng.random() < 0.3:
        parts.append(rng.choice(DETAILS))
    if rng.random() < 0.15:
        parts.append(rng.choice(CONTACTS))
    text = ". ".join(parts) + ". " + rng.choice(CLOSERS)
    text = _typos(text, rng)
    if rng.random() < 0.1:
        text = text.upper()
    return text.strip()


def history(
    rows: int, seed: int, districts: int = 40, noise: float = 0.04
) -> Iterator[tuple[str, str]]:
    """(text, the centre's agency name) rows, with the centre's own mistakes and quirks."""
    rng = random.Random(seed)
    pool = agencies(districts)
    by_code = {a.code: a for a in pool}
    weights = [6.0 if a.place is None else 1.0 for a in pool]  # central offices get more
    for _ in range(rows):
        agency = rng.choices(pool, weights)[0]
        text = complaint(agency, rng)
        dispatched = agency
        if rng.random() < noise:
            if agency.neighbour and rng.random() < 0.7:
                dispatched = by_code[agency.neighbour]
            else:
                dispatched = rng.choice(pool)
        label = rng.choice((dispatched.name, dispatched.name, *dispatched.variants))
        roll = rng.random()
        if roll < 0.01:
            text = "   "
        elif roll < 0.02:
            label = "Lain-lain (bukan kewenangan)"
        yield text, label


def mapping(districts: int = 40) -> dict[str, str]:
    """The pemda's agency names (every spelling) -> config codes."""
    out: dict[str, str] = {}
    for agency in agencies(districts):
        for name in (agency.name, *agency.variants):
            out[name] = agency.code
    return out


def main() -> None:
    """Write a history CSV (keluhan, instansi), and optionally the mapping and agencies."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--districts", type=int, default=40)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--mapping", type=Path)
    args = parser.parse_args()
    seen: list[tuple[str, str]] = []
    with args.out.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["no", "tanggal", "keluhan", "instansi"])
        for i, generated in enumerate(history(args.rows, args.seed, args.districts), 1):
            row = seen[-1] if seen and i % 97 == 0 else generated  # the export repeats rows
            seen.append(row)
            writer.writerow([i, f"2025-{(i % 12) + 1:02d}-{(i % 28) + 1:02d}", *row])
    if args.mapping:
        lines = ["# The centre's agency names -> gateway config codes (generated)."]
        lines += [f'"{name}": {code}' for name, code in mapping(args.districts).items()]
        args.mapping.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

namespace EmailNotifications;

/// <summary>The notifications the sample sends: plain and non-ASCII text, a long subject, one mistyped address, one recipient whose server is down, and one double click.</summary>
public static class DemoNotifications
{
    /// <summary>The notification whose button is clicked twice.</summary>
    public static readonly SendNotification DoubleClicked = new(
        "password-reset-grace",
        "grace@example.net",
        "Grace Hopper",
        "Reset your password",
        "Hi Grace,\n\nSomeone (hopefully you) asked to reset your password. Use this link within the hour:\nhttps://shop.example/reset?token=7f3a9c\n\nIf it wasn't you, ignore this email.\n");

    /// <summary>The notification whose address was mistyped: it fails permanently and ends in the dead-letter queue.</summary>
    public static readonly SendNotification InvalidAddress = new(
        "password-reset-ken",
        "ken.example.com",
        "Ken Thompson",
        "Reset your password",
        "Hi Ken,\n\nUse this link to reset your password:\nhttps://shop.example/reset?token=0b1d2e\n");

    /// <summary>
    /// The notification whose recipient's mail server is down (<see cref="Email.OutageEmailSender"/>): every attempt fails
    /// transiently, the 3 retries are used up, and it ends in the dead-letter queue after 4 attempts.
    /// </summary>
    public static readonly SendNotification ServerDown = new(
        "order-confirmed-barbara",
        "barbara@" + Email.OutageEmailSender.DefaultDownDomain,
        "Barbara Liskov",
        "Order #1043 confirmed",
        "Hi Barbara,\n\nWe have your order #1043 and will ship it within two days.\n\nThe Example Shop team\n");

    /// <summary>Gets every distinct notification, in the order they are first enqueued.</summary>
    public static IReadOnlyList<SendNotification> All { get; } =
    [
        new("welcome-ada", "ada@example.com", "Ada Lovelace", "Welcome to Example Shop, Ada!",
            "Hi Ada,\n\nThanks for signing up. Your account is ready.\n\nThe Example Shop team\n"),
        new("order-shipped-zoe", "zoe@example.org", "Zoë Ångström", "Your order #1042 has shipped — it arrives Thursday",
            "Hallo Zoë,\n\nyour parcel is on its way: 2 × Kaffeetasse „Morgenröte“, 1 × Teekanne (1,5 l).\nTrack it here → https://shop.example/track/1042?carrier=dhl&ref=ZX-88120934-DE-PARCEL-EXPRESS\n\nViele Grüße\nIhr Example-Shop-Team\n"),
        DoubleClicked,
        new("comment-reply-taro", "taro@example.jp", "山田 太郎", "新しいコメントが届きました：「週末のセール」についてのあなたの投稿に返信があります",
            "山田 太郎 様\n\nあなたの投稿「週末のセール」に新しい返信があります。\nhttps://shop.example/comments/88\n"),
        new("invoice-linus", "linus@example.com", "Torvalds, Linus", "Invoice INV-2025-0042 is ready",
            "Hi Linus,\n\nInvoice INV-2025-0042 is ready. Amount due: 42.00 EUR.\n"),
        new("weekly-digest-margaret", "margaret@example.com", "Margaret Hamilton",
            "Your weekly digest: 12 new products, 3 price drops on your wish list, and 1 item back in stock",
            "Hi Margaret,   \n\nThis week: 50% off = half price on lunar modules.\nTabs\tstay\ttabs, and these trailing spaces stay too.  \n"),
        InvalidAddress,
        ServerDown,
    ];

    /// <summary>Gets the notifications that are sent: all but <see cref="InvalidAddress"/> and <see cref="ServerDown"/>.</summary>
    public static IReadOnlyList<SendNotification> Deliverable { get; } = [.. All.Where(n => n != InvalidAddress && n != ServerDown)];

    /// <summary>Gets every enqueue the sample makes: each notification once, and the double-clicked one twice in a row.</summary>
    public static IReadOnlyList<SendNotification> Clicks { get; } =
        [.. All.SelectMany(n => ReferenceEquals(n, DoubleClicked) ? [n, n] : new[] { n })];
}

"""Errors of the citizen services, each with the sentence a citizen is shown.

Actions catch :class:`ServiceError` and send ``citizen_message``; the rest of the
exception (class, attributes) is for code and logs and never holds personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, List


class ServiceError(Exception):
    """Base class: ``citizen_message`` is polite Vietnamese, phone-sized."""

    citizen_message: str = (
        "Dạ, hệ thống đang gặp sự cố, anh/chị vui lòng thử lại sau ít phút."
    )

    def __init__(self, detail: str = "", citizen_message: str | None = None) -> None:
        super().__init__(detail or self.__class__.__name__)
        if citizen_message is not None:
            self.citizen_message = citizen_message


# ---- booking ----------------------------------------------------------------------


class NotBookable(ServiceError):
    """The requested time cannot be booked at all (holiday, closed, past, unknown)."""

    MESSAGES = {
        "unknown_unit": "Dạ, em chưa tìm thấy đơn vị công an này để đặt lịch.",
        "past": "Dạ, thời gian này đã qua, anh/chị vui lòng chọn thời gian khác.",
        "holiday": "Dạ, ngày này là ngày nghỉ lễ, đơn vị không làm việc ạ.",
        "closed": "Dạ, đơn vị không làm việc vào thời gian này ạ.",
        "too_far": "Dạ, hiện chỉ nhận đặt lịch trong vòng 60 ngày tới ạ.",
        "bad_input": (
            "Dạ, thông tin đặt lịch chưa hợp lệ, anh/chị kiểm tra lại giúp em."
        ),
    }

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(
            detail or reason,
            self.MESSAGES.get(reason, self.MESSAGES["closed"]),
        )
        self.reason = reason


class SlotFull(ServiceError):
    """The slot has no free place; ``nearest`` holds free slots to offer instead."""

    citizen_message = "Dạ, khung giờ này đã kín chỗ. Anh/chị chọn giúp em giờ khác ạ."

    def __init__(self, nearest: List[Any] | None = None) -> None:
        super().__init__("slot full")
        self.nearest = list(nearest or [])


class BookingNotFound(ServiceError):
    """Code and phone do not match a booking (the same error for either mistake)."""

    citizen_message = (
        "Dạ, em không tìm thấy lịch hẹn khớp với mã và số điện thoại này. "
        "Anh/chị kiểm tra lại giúp em ạ."
    )


# ---- applications -------------------------------------------------------------------


class ApplicationNotFound(ServiceError):
    """Code and phone do not match an application (the same error for either)."""

    citizen_message = (
        "Dạ, em không tìm thấy hồ sơ khớp với mã hồ sơ và số điện thoại này. "
        "Anh/chị kiểm tra lại giúp em ạ."
    )


class LookupLocked(ServiceError):
    """Too many wrong tries in this conversation; ``until`` is when it unlocks."""

    def __init__(self, until: datetime) -> None:
        super().__init__(
            "lookup locked",
            "Dạ, anh/chị đã nhập sai quá 5 lần. Vui lòng thử lại sau "
            f"{until:%H:%M} hoặc liên hệ trực tiếp đơn vị công an ạ.",
        )
        self.until = until


class ImportFailed(ServiceError):
    """A CSV import was refused; nothing was imported."""


# ---- tips, handoff, outbound --------------------------------------------------------


class TipNotFound(ServiceError):
    citizen_message = (
        "Dạ, em không tìm thấy tin báo với mã này. Anh/chị kiểm tra lại giúp em ạ."
    )


class UnknownUnit(ServiceError):
    """No police unit is known for this conversation or code."""

    citizen_message = (
        "Dạ, em chưa xác định được đơn vị công an phụ trách. "
        "Anh/chị cho em biết xã/phường của mình ạ."
    )


class HandoffError(ServiceError):
    """A queue operation that does not fit the ticket's state (not for citizens)."""


class DeliveryError(ServiceError):
    """A message could not be delivered through its channel."""

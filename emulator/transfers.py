"""Deposits and withdrawals of an account, made through the control API (the exchange's own
app or a blockchain, as far as a client can tell), and how MEXC lists them:
/api/v3/capital/deposit/hisrec and /api/v3/capital/withdraw/history.

A completed deposit credits the free balance; a completed withdrawal takes its amount, the
fee included (MEXC's withdrawal amount includes its fee); a pending or failed one moves
nothing and is only listed."""

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from emulator.numbers import fmt

DEPOSIT, WITHDRAWAL = "deposit", "withdrawal"
# MEXC's status codes (ccxt's mexc: parseTransactionStatusByType)
STATUS_CODES = {
    DEPOSIT: {"success": "5", "pending": "4", "failed": "7"},
    WITHDRAWAL: {"success": "7", "pending": "1", "failed": "8"},
}
NETWORK = "TRX"


@dataclass
class Transfer:
    api_key: str
    seq: int
    kind: str  # deposit or withdrawal
    asset: str
    amount: Decimal  # what came in, or left (a withdrawal's fee included)
    fee: Decimal
    status: str  # success, pending or failed
    time_ms: int

    @property
    def moves_balance(self) -> bool:
        return self.status == "success"

    @property
    def tx_hash(self) -> str:
        """Unique across resets and restarts too: the time is part of it."""
        return hashlib.sha256(f"{self.kind}:{self.seq}:{self.time_ms}".encode()).hexdigest()

    @property
    def withdraw_id(self) -> str:
        return self.tx_hash[:32]


def deposit_record(transfer: Transfer) -> dict:
    """One entry of /api/v3/capital/deposit/hisrec, as MEXC lists it (no id of its own)."""
    return {
        "amount": fmt(transfer.amount),
        "coin": f"{transfer.asset}-{NETWORK}",
        "network": NETWORK,
        "status": STATUS_CODES[DEPOSIT][transfer.status],
        "address": "TSMcEDDvkqY9dz8RkFnrS86U59GwEZjfvh",
        "txId": f"{transfer.tx_hash}:0",
        "insertTime": str(transfer.time_ms),
        "unlockConfirm": "200",
        "confirmTimes": "203",
        "memo": None,
        "transHash": transfer.tx_hash,
        "updateTime": str(transfer.time_ms),
        "netWork": NETWORK,
    }


def withdrawal_record(transfer: Transfer) -> dict:
    """One entry of /api/v3/capital/withdraw/history, as MEXC lists it."""
    return {
        "id": transfer.withdraw_id,
        "txId": f"{transfer.tx_hash}:0",
        "coin": f"{transfer.asset}-{NETWORK}",
        "network": NETWORK,
        "address": "TWd4WrZ9wn84f5x1hZhL4DHvk738ns5jwb",
        "amount": fmt(transfer.amount),
        "transferType": "0",
        "status": STATUS_CODES[WITHDRAWAL][transfer.status],
        "transactionFee": fmt(transfer.fee),
        "confirmNo": None,
        "applyTime": str(transfer.time_ms),
        "remark": "",
        "memo": None,
        "explorerUrl": f"https://tronscan.org/#/transaction/{transfer.tx_hash}",
        "transHash": transfer.tx_hash,
        "updateTime": str(transfer.time_ms),
        "netWork": NETWORK,
    }

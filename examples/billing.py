"""Billing: the balance, and what the instances cost so far."""

from __future__ import annotations

from meganova import MegaNova

with MegaNova() as client:
    balance = client.billing.get_balance()
    print("balance:", balance.balance, balance.currency, balance.status)
    billings = client.billing.get_user_instance_billings()
    for instance in billings.data or []:
        print(f"  instance {instance.vm_access_info_id}: {instance.running_hours} h, {instance.fee_accumulated_taxed}")
    print("total:", billings.total_cost)
